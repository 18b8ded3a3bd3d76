package policies

import (
	"context"
	_ "embed"
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

//go:embed access.rego
var accessModule string

const accessModuleFile = "policies/access.rego"

// AccessPolicy evaluates access.rego: whether the acting tenant's state
// (suspended or not) allows an action that the caller's role permits. It is
// asked on every authenticated request, after casbin. Safe for concurrent
// use.
type AccessPolicy struct {
	decision rego.PreparedEvalQuery
	// The policy is fixed at build time and its inputs are names from the
	// route table and the tenant's kind and status, a few hundred
	// combinations at most, so each decision is evaluated once and then
	// read from memory (about 50 µs of OPA per request saved).
	mu    sync.RWMutex
	cache map[AccessRequest]AccessDecision
}

// maxAccessCache bounds the memo should a caller ever pass free-form input.
const maxAccessCache = 4096

// AccessRequest describes the acting tenant and what is asked of it.
type AccessRequest struct {
	TenantKind   string
	TenantStatus string
	Object       string
	Action       string
}

// AccessDecision is the answer. Code and Reason are set when denied and are
// safe to show.
type AccessDecision struct {
	Allow  bool
	Code   string
	Reason string
}

// NewAccessPolicy compiles the embedded access module and prepares its query.
func NewAccessPolicy(ctx context.Context) (*AccessPolicy, error) {
	compiler, err := ast.CompileModulesWithOpt(
		map[string]string{accessModuleFile: accessModule},
		ast.CompileOpts{ParserOptions: ast.ParserOptions{RegoVersion: ast.RegoV1}},
	)
	if err != nil {
		return nil, fmt.Errorf("policies: compile access module: %w", err)
	}
	pq, err := rego.New(rego.Query("data.marquee.access.decision"), rego.Compiler(compiler)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policies: prepare access decision: %w", err)
	}
	return &AccessPolicy{decision: pq, cache: map[AccessRequest]AccessDecision{}}, nil
}

// Decide evaluates the request.
func (a *AccessPolicy) Decide(ctx context.Context, r AccessRequest) (AccessDecision, error) {
	a.mu.RLock()
	d, ok := a.cache[r]
	a.mu.RUnlock()
	if ok {
		return d, nil
	}
	d, err := a.eval(ctx, r)
	if err != nil {
		return d, err
	}
	a.mu.Lock()
	if len(a.cache) >= maxAccessCache {
		clear(a.cache)
	}
	a.cache[r] = d
	a.mu.Unlock()
	return d, nil
}

func (a *AccessPolicy) eval(ctx context.Context, r AccessRequest) (AccessDecision, error) {
	input := ast.NewObject(
		ast.Item(ast.InternedTerm("tenant_kind"), ast.StringTerm(r.TenantKind)),
		ast.Item(ast.InternedTerm("tenant_status"), ast.StringTerm(r.TenantStatus)),
		ast.Item(ast.InternedTerm("object"), ast.StringTerm(r.Object)),
		ast.Item(ast.InternedTerm("action"), ast.StringTerm(r.Action)),
	)
	v, err := evalOne(ctx, a.decision, input)
	if err != nil {
		return AccessDecision{}, fmt.Errorf("policies: access decision: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return AccessDecision{}, fmt.Errorf("policies: access decision: want an object, got %T", v)
	}
	allow, ok1 := obj["allow"].(bool)
	code, ok2 := obj["code"].(string)
	reason, ok3 := obj["reason"].(string)
	if !ok1 || !ok2 || !ok3 {
		return AccessDecision{}, fmt.Errorf("policies: access decision: malformed result %v", obj)
	}
	return AccessDecision{Allow: allow, Code: code, Reason: reason}, nil
}
