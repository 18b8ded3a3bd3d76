package main

import (
	"context"
	"io"

	"github.com/marquee-video/marquee/controlplane/recommend/eval"
)

// recoEval is `marquee admin reco-eval`, the recommender's offline evaluation.
func recoEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return eval.Main(ctx, args, stdout, stderr)
}
