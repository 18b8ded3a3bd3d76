package policies

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

//go:embed playback.rego
var playbackModule string

const playbackModuleFile = "policies/playback.rego"

// PlaybackPolicy evaluates playback.rego: whether a viewer may play a
// playback id. It is asked on every manifest and license request. Its input
// is facts the caller computed (a rental's window is checked in Go), so
// equal inputs give equal decisions and are memoized. Safe for concurrent
// use.
type PlaybackPolicy struct {
	decision rego.PreparedEvalQuery
	mu       sync.RWMutex
	cache    map[string]PlaybackDecision
}

// maxPlaybackCache bounds the memo; it is cleared when full.
const maxPlaybackCache = 16384

// PlaybackRequest is the policy's input.
type PlaybackRequest struct {
	Model          string
	Tier           string
	RatingAge      int // -1: unrated
	AllowCountries []string
	DenyCountries  []string
	// From the playback token.
	TokenAllowCountries []string
	TokenDenyCountries  []string
	TokenTier           string
	// Country is the viewer's, "" when unknown.
	Country string
	// The viewer's entitlements, as facts at the time of the request.
	ViewerTiers     []string
	HasRental       bool
	RentalExpired   bool
	HasPurchase     bool
	ProfileAgeLimit int // -1: none
}

// PlaybackDecision is the answer. Code and Reason are set when denied; Ads
// says the viewer plays with ads (AVOD).
type PlaybackDecision struct {
	Allow  bool
	Code   string
	Reason string
	Ads    bool
}

// NewPlaybackPolicy compiles the embedded playback module.
func NewPlaybackPolicy(ctx context.Context) (*PlaybackPolicy, error) {
	compiler, err := ast.CompileModulesWithOpt(
		map[string]string{playbackModuleFile: playbackModule},
		ast.CompileOpts{ParserOptions: ast.ParserOptions{RegoVersion: ast.RegoV1}},
	)
	if err != nil {
		return nil, fmt.Errorf("policies: compile playback module: %w", err)
	}
	pq, err := rego.New(rego.Query("data.marquee.playback.decision"), rego.Compiler(compiler)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policies: prepare playback decision: %w", err)
	}
	return &PlaybackPolicy{decision: pq, cache: map[string]PlaybackDecision{}}, nil
}

func (r PlaybackRequest) key() string {
	// Length-prefixed fields: no value can pass for another's boundary.
	b := make([]byte, 0, 128)
	str := func(v string) {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	list := func(vs []string) {
		b = strconv.AppendInt(b, int64(len(vs)), 10)
		b = append(b, '[')
		for _, v := range vs {
			str(v)
		}
	}
	str(r.Model)
	str(r.Tier)
	b = strconv.AppendInt(b, int64(r.RatingAge), 10)
	b = append(b, ';')
	list(r.AllowCountries)
	list(r.DenyCountries)
	list(r.TokenAllowCountries)
	list(r.TokenDenyCountries)
	str(r.TokenTier)
	str(r.Country)
	list(r.ViewerTiers)
	b = strconv.AppendBool(b, r.HasRental)
	b = strconv.AppendBool(b, r.RentalExpired)
	b = strconv.AppendBool(b, r.HasPurchase)
	b = strconv.AppendInt(b, int64(r.ProfileAgeLimit), 10)
	return string(b)
}

// Decide evaluates the request.
func (p *PlaybackPolicy) Decide(ctx context.Context, r PlaybackRequest) (PlaybackDecision, error) {
	k := r.key()
	p.mu.RLock()
	d, ok := p.cache[k]
	p.mu.RUnlock()
	if ok {
		return d, nil
	}
	d, err := p.eval(ctx, r)
	if err != nil {
		return d, err
	}
	p.mu.Lock()
	if len(p.cache) >= maxPlaybackCache {
		clear(p.cache)
	}
	p.cache[k] = d
	p.mu.Unlock()
	return d, nil
}

func strsTerm(ss []string) *ast.Term {
	ts := make([]*ast.Term, len(ss))
	for i, s := range ss {
		ts[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(ts...)
}

func (p *PlaybackPolicy) eval(ctx context.Context, r PlaybackRequest) (PlaybackDecision, error) {
	input := ast.NewObject(
		ast.Item(ast.StringTerm("model"), ast.StringTerm(r.Model)),
		ast.Item(ast.StringTerm("tier"), ast.StringTerm(r.Tier)),
		ast.Item(ast.StringTerm("rating_age"), ast.IntNumberTerm(r.RatingAge)),
		ast.Item(ast.StringTerm("allow_countries"), strsTerm(r.AllowCountries)),
		ast.Item(ast.StringTerm("deny_countries"), strsTerm(r.DenyCountries)),
		ast.Item(ast.StringTerm("token_allow_countries"), strsTerm(r.TokenAllowCountries)),
		ast.Item(ast.StringTerm("token_deny_countries"), strsTerm(r.TokenDenyCountries)),
		ast.Item(ast.StringTerm("token_tier"), ast.StringTerm(r.TokenTier)),
		ast.Item(ast.StringTerm("country"), ast.StringTerm(r.Country)),
		ast.Item(ast.StringTerm("viewer_tiers"), strsTerm(r.ViewerTiers)),
		ast.Item(ast.StringTerm("has_rental"), ast.BooleanTerm(r.HasRental)),
		ast.Item(ast.StringTerm("rental_expired"), ast.BooleanTerm(r.RentalExpired)),
		ast.Item(ast.StringTerm("has_purchase"), ast.BooleanTerm(r.HasPurchase)),
		ast.Item(ast.StringTerm("profile_age_limit"), ast.IntNumberTerm(r.ProfileAgeLimit)),
	)
	v, err := evalOne(ctx, p.decision, input)
	if err != nil {
		return PlaybackDecision{}, fmt.Errorf("policies: playback decision: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return PlaybackDecision{}, fmt.Errorf("policies: playback decision: want an object, got %T", v)
	}
	allow, ok1 := obj["allow"].(bool)
	code, ok2 := obj["code"].(string)
	reason, ok3 := obj["reason"].(string)
	ads, ok4 := obj["ads"].(bool)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return PlaybackDecision{}, fmt.Errorf("policies: playback decision: malformed result %v", obj)
	}
	return PlaybackDecision{Allow: allow, Code: code, Reason: reason, Ads: ads}, nil
}
