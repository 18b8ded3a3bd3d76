package eval_test

import (
	"context"
	"testing"

	"github.com/marquee-video/marquee/controlplane/recommend/eval"
)

func TestModelBeatsPopularityOnPlantedClusters(t *testing.T) {
	g := eval.Generate(eval.GenerateConfig{Interactions: 60_000, Seed: 1})
	for _, split := range []eval.Split{eval.LeaveLastOut, eval.Temporal} {
		t.Run(string(split), func(t *testing.T) {
			for _, withItems := range []bool{false, true} {
				cfg := eval.Config{Split: split, Seed: 1}
				if withItems {
					cfg.Items = g.Items
				}
				rep, err := eval.Evaluate(context.Background(), g.Interactions, cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("metadata=%v\n%s", withItems, rep.Markdown())
				model, _ := rep.Result(eval.ModelName)
				pop, _ := rep.Result(eval.PopularityName)
				rnd, _ := rep.Result(eval.RandomName)
				if !(model.NDCG > pop.NDCG && pop.NDCG > rnd.NDCG) {
					t.Errorf("NDCG@10: model %.4f, popularity %.4f, random %.4f; want model > popularity > random", model.NDCG, pop.NDCG, rnd.NDCG)
				}
			}
		})
	}
}
