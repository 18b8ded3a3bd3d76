package eval

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/marquee-video/marquee/controlplane/recommend"
)

// Usage is the synopsis of the reco-eval command.
const Usage = "usage: marquee admin reco-eval (--input interactions.csv [--items items.csv] | --generate N [--viewers V --titles T --clusters C --write file.csv]) [--split leave-last-out|temporal] [--k 10]"

// Main is `marquee admin reco-eval`: it reads or generates interactions, runs
// Evaluate and prints a markdown table of the model against popularity and
// random baselines. Skipped input rows go to stderr with their line numbers.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin reco-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, Usage)
		fs.PrintDefaults()
	}
	input := fs.String("input", "", "interactions CSV: viewer,item,timestamp[,weight]; header optional; timestamp in Unix seconds or RFC 3339")
	itemsFile := fs.String("items", "", "optional catalog metadata CSV with a header of id,genres,tags,cast,text,published_at (lists |-separated)")
	split := fs.String("split", string(LeaveLastOut), "leave-last-out (each viewer's latest title) or temporal (everything after a time cut-off)")
	k := fs.Int("k", 10, "list length scored")
	testFraction := fs.Float64("test-fraction", 0.2, "temporal split: share of interactions after the cut-off")
	maxViewers := fs.Int("max-viewers", 0, "test at most this many viewers, a seeded sample (0: all)")
	seed := fs.Uint64("seed", 1, "seed of generation, the random baseline and the viewer sample")
	generate := fs.Int("generate", 0, "generate this many interactions with planted taste clusters instead of reading --input")
	viewers := fs.Int("viewers", 0, "--generate: viewers (default interactions/10)")
	titles := fs.Int("titles", 0, "--generate: titles (default interactions/20)")
	clusters := fs.Int("clusters", 0, "--generate: taste clusters (default 20)")
	write := fs.String("write", "", "--generate: also write the interactions to this CSV")
	neighbors := fs.Int("neighbors", 0, "model: neighbours kept per title (default 50)")
	contentWeight := fs.Float64("content-weight", 0, "model: content similarity's share between well-watched titles (default 0.1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*input == "") == (*generate <= 0) {
		return errors.New("give exactly one of --input or --generate\n" + Usage)
	}
	if *k <= 0 {
		return errors.New("--k must be positive")
	}
	cfg := Config{
		Split: Split(*split), K: *k, TestFraction: *testFraction, MaxViewers: *maxViewers, Seed: *seed,
		Options: recommend.Options{Neighbors: *neighbors, ContentWeight: *contentWeight},
	}
	if cfg.Split != LeaveLastOut && cfg.Split != Temporal {
		return fmt.Errorf("--split %q: want %s or %s", *split, LeaveLastOut, Temporal)
	}

	var data []Interaction
	source := ""
	if *generate > 0 {
		g := Generate(GenerateConfig{Interactions: *generate, Viewers: *viewers, Items: *titles, Clusters: *clusters, Seed: *seed})
		data, cfg.Items = g.Interactions, g.Items
		source = fmt.Sprintf("generated: %d interactions, %d titles, planted taste clusters, seed %d", len(data), len(g.Items), *seed)
		if *write != "" {
			if err := writeInteractions(*write, data); err != nil {
				return err
			}
		}
	} else {
		f, err := os.Open(*input)
		if err != nil {
			return err
		}
		var bad []RowError
		data, bad, err = ReadCSV(f)
		f.Close()
		if err != nil {
			return err
		}
		reportBadRows(stderr, *input, bad)
		if len(data) == 0 {
			return fmt.Errorf("%s: no usable interactions", *input)
		}
		source = fmt.Sprintf("%s: %d interactions", *input, len(data))
		if *itemsFile != "" {
			f, err := os.Open(*itemsFile)
			if err != nil {
				return err
			}
			cfg.Items, bad, err = ReadItemsCSV(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", *itemsFile, err)
			}
			reportBadRows(stderr, *itemsFile, bad)
			source += fmt.Sprintf(", %d titles with metadata from %s", len(cfg.Items), *itemsFile)
		}
	}
	rep, err := Evaluate(ctx, data, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n\n%s", source, rep.Markdown())
	return nil
}

// reportBadRows tells which rows of a file were skipped, the first 20 by line.
func reportBadRows(w io.Writer, file string, bad []RowError) {
	for i, b := range bad {
		if i == 20 {
			fmt.Fprintf(w, "%s: … and %d more bad rows\n", file, len(bad)-20)
			break
		}
		fmt.Fprintf(w, "%s:%d: skipped: %s\n", file, b.Line, b.Err)
	}
}

func writeInteractions(path string, data []Interaction) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteCSV(f, data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
