package eval_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-video/marquee/controlplane/recommend/eval"
)

var day0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func rows(spec ...string) []eval.Interaction {
	var out []eval.Interaction
	for i, s := range spec {
		f := strings.Split(s, " ") // "viewer item hour"
		h := 0
		for _, c := range f[2] {
			h = h*10 + int(c-'0')
		}
		out = append(out, eval.Interaction{Viewer: f[0], Item: f[1], At: day0.Add(time.Duration(h) * time.Hour), Weight: 1, Line: i + 1})
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestLeaveLastOutMetricsByHand(t *testing.T) {
	data := rows(
		"v1 a 1", "v1 b 2", "v1 c 3", // held out: c
		"v2 a 1", "v2 c 2", // held out: c
		"v3 d 1",                     // one title: trains, is not tested
		"v4 b 1", "v4 a 2", "v4 d 3", // held out: d
	)
	rep, err := eval.Evaluate(context.Background(), data, eval.Config{K: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TestViewers != 3 || rep.TrainEvents != 6 || rep.CatalogItems != 3 || rep.Viewers != 4 {
		t.Fatalf("report %+v", rep)
	}
	// Popularity in training: a 3, b 2, d 1 (c only ever held out). v1 gets
	// [d], v2 [b d], v4 [d]: one hit, at rank 1, out of three viewers.
	pop, _ := rep.Result(eval.PopularityName)
	want := eval.Result{Name: eval.PopularityName, Precision: 0.5 / 3, Recall: 1.0 / 3, NDCG: 1.0 / 3, Coverage: 2.0 / 3}
	if !near(pop.Precision, want.Precision) || !near(pop.Recall, want.Recall) || !near(pop.NDCG, want.NDCG) || !near(pop.Coverage, want.Coverage) {
		t.Fatalf("popularity %+v, want %+v", pop, want)
	}
	if len(rep.Results) != 3 {
		t.Fatalf("results %+v", rep.Results)
	}
}

func TestTemporalSplit(t *testing.T) {
	data := rows(
		"v1 a 1", "v1 b 2", "v1 c 9", "v1 a 10", "v1 e 10", // after the cut: e (a is known)
		"v2 a 3", "v2 b 4", // nothing after the cut: not tested
		"v3 c 11",           // no history: not tested
		"v4 b 5", "v4 d 12", // after the cut: d
		"v5 a 6", "v5 b 7", "v5 c 8",
	)
	// 13 rows, test fraction 0.25: the cut is the 10th time (10 h); rows at
	// 10, 10, 11, 12 are after it.
	rep, err := eval.Evaluate(context.Background(), data, eval.Config{Split: eval.Temporal, TestFraction: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TrainEvents != 9 || rep.TestViewers != 2 { // v1 (e) and v4 (d)
		t.Fatalf("train %d, tested %d; want 9 and 2", rep.TrainEvents, rep.TestViewers)
	}
}

func TestEvaluateErrors(t *testing.T) {
	one := rows("v1 a 1", "v2 b 2")
	if _, err := eval.Evaluate(context.Background(), one, eval.Config{}); !errors.Is(err, eval.ErrNoTestData) {
		t.Errorf("single-title viewers: %v, want ErrNoTestData", err)
	}
	if _, err := eval.Evaluate(context.Background(), nil, eval.Config{Split: eval.Temporal}); !errors.Is(err, eval.ErrNoTestData) {
		t.Errorf("no data: %v, want ErrNoTestData", err)
	}
	if _, err := eval.Evaluate(context.Background(), rows("v1 a 1", "v1 b 2"), eval.Config{Split: "k-fold"}); err == nil {
		t.Error("unknown split accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g := eval.Generate(eval.GenerateConfig{Interactions: 2000, Seed: 1})
	if _, err := eval.Evaluate(ctx, g.Interactions, eval.Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestGenerateIsSeeded(t *testing.T) {
	a := eval.Generate(eval.GenerateConfig{Interactions: 3000, Items: 1000, Seed: 9})
	b := eval.Generate(eval.GenerateConfig{Interactions: 3000, Items: 1000, Seed: 9})
	c := eval.Generate(eval.GenerateConfig{Interactions: 3000, Items: 1000, Seed: 10})
	if len(a.Interactions) != 3000 {
		t.Fatalf("%d interactions, want 3000", len(a.Interactions))
	}
	same := func(x, y eval.Generated) bool {
		if len(x.Interactions) != len(y.Interactions) {
			return false
		}
		for i := range x.Interactions {
			if x.Interactions[i] != y.Interactions[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) || same(a, c) {
		t.Fatal("same seed must give the same data, another seed other data")
	}
	// Planted clusters: most of a viewer's titles are from the viewer's cluster.
	in := 0
	for _, x := range a.Interactions {
		if a.ItemCluster[x.Item] == a.ViewerCluster[x.Viewer] {
			in++
		}
	}
	if share := float64(in) / float64(len(a.Interactions)); share < 0.75 {
		t.Fatalf("%.2f of interactions in the viewer's cluster, want about 0.8", share)
	}
	for _, x := range a.Interactions {
		for _, n := range a.NewTitles {
			if x.Item == n {
				t.Fatalf("new title %s has an interaction", n)
			}
		}
	}
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "gen.csv")
	var out, errOut strings.Builder
	err := eval.Main(context.Background(), []string{"--generate", "5000", "--seed", "2", "--write", csvPath}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"| recommender | precision@10 | recall@10 | NDCG@10 | coverage |", "| " + eval.ModelName + " |", "| popularity |", "| random |", "split leave-last-out"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}

	// The written file, with two bad rows added, evaluates the same data.
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	bad := append([]string{lines[0], lines[1], "v1,t1,not-a-time\n", "just-one-field\n"}, lines[2:]...)
	if err := os.WriteFile(csvPath, []byte(strings.Join(bad, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	err = eval.Main(context.Background(), []string{"--input", csvPath, "--split", "temporal", "--k", "5"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{csvPath + ":3: skipped: timestamp", csvPath + ":4: skipped: want 3 or 4 fields"} {
		if !strings.Contains(errOut.String(), want) {
			t.Fatalf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "NDCG@5") || !strings.Contains(out.String(), "split temporal") {
		t.Fatalf("output:\n%s", out.String())
	}

	for _, args := range [][]string{
		{},
		{"--input", csvPath, "--generate", "100"},
		{"--generate", "100", "--split", "random"},
		{"--generate", "100", "--k", "0"},
		{"--input", filepath.Join(dir, "missing.csv")},
		{"--bogus"},
	} {
		if err := eval.Main(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("args %q accepted", args)
		}
	}
}
