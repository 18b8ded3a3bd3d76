package policies

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

//go:embed quota.rego
var quotaModule string

// quotaModuleFile is the name the module is compiled under; rego errors and
// test locations refer to it.
const quotaModuleFile = "policies/quota.rego"

// Quota resources: the names that QuotaRequest.Resource and Limits keys take.
const (
	ResourceStorageBytes             = "storage_bytes"
	ResourceTranscodeMinutesPerMonth = "transcode_minutes_per_month"
	ResourceAssets                   = "assets"
	ResourceConcurrentJobs           = "concurrent_jobs"
	ResourceSubTenants               = "sub_tenants"
	ResourceEgressGBPerMonth         = "egress_gb_per_month"
)

// Resources lists the quota resources.
func Resources() []string {
	return []string{
		ResourceStorageBytes,
		ResourceTranscodeMinutesPerMonth,
		ResourceAssets,
		ResourceConcurrentJobs,
		ResourceSubTenants,
		ResourceEgressGBPerMonth,
	}
}

// QuotaPolicy evaluates the quota rules in quota.rego. Its queries are
// prepared once, so a decision costs one evaluation. It is safe for
// concurrent use.
type QuotaPolicy struct {
	decision   rego.PreparedEvalQuery
	violations rego.PreparedEvalQuery
}

// QuotaRequest asks to consume Requested units of Resource, of which Used are
// already consumed under Limit. A nil Limit means unlimited.
type QuotaRequest struct {
	Resource  string
	Limit     *int64
	Used      int64
	Requested int64
}

// QuotaDecision is the answer to a QuotaRequest. Reason says why it was
// denied and is empty when allowed; it is safe to show to the tenant.
type QuotaDecision struct {
	Allow  bool
	Reason string
}

// Limits maps a resource name to its limit; nil, or no entry, means
// unlimited.
type Limits map[string]*int64

// NewQuotaPolicy compiles the embedded quota module and prepares its queries.
func NewQuotaPolicy(ctx context.Context) (*QuotaPolicy, error) {
	compiler, err := ast.CompileModulesWithOpt(
		map[string]string{quotaModuleFile: quotaModule},
		ast.CompileOpts{ParserOptions: ast.ParserOptions{RegoVersion: ast.RegoV1}},
	)
	if err != nil {
		return nil, fmt.Errorf("policies: compile quota module: %w", err)
	}
	prepare := func(query string) (rego.PreparedEvalQuery, error) {
		pq, err := rego.New(rego.Query(query), rego.Compiler(compiler)).PrepareForEval(ctx)
		if err != nil {
			return rego.PreparedEvalQuery{}, fmt.Errorf("policies: prepare %s: %w", query, err)
		}
		return pq, nil
	}
	q := &QuotaPolicy{}
	if q.decision, err = prepare("data.marquee.quota.decision"); err != nil {
		return nil, err
	}
	if q.violations, err = prepare("data.marquee.quota.child_limit_violations"); err != nil {
		return nil, err
	}
	return q, nil
}

// Decide decides whether r may consume its quota. A denial is a decision, not
// an error; an error means the policy could not be evaluated.
func (q *QuotaPolicy) Decide(ctx context.Context, r QuotaRequest) (QuotaDecision, error) {
	input := ast.NewObject(
		ast.Item(ast.InternedTerm("resource"), ast.StringTerm(r.Resource)),
		ast.Item(ast.InternedTerm("limit"), limitTerm(r.Limit)),
		ast.Item(ast.InternedTerm("used"), int64Term(r.Used)),
		ast.Item(ast.InternedTerm("requested"), int64Term(r.Requested)),
	)
	v, err := evalOne(ctx, q.decision, input)
	if err != nil {
		return QuotaDecision{}, fmt.Errorf("policies: quota decision for %s: %w", r.Resource, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return QuotaDecision{}, fmt.Errorf("policies: quota decision for %s: want an object, got %T", r.Resource, v)
	}
	allow, ok1 := obj["allow"].(bool)
	reason, ok2 := obj["reason"].(string)
	if !ok1 || !ok2 {
		return QuotaDecision{}, fmt.Errorf("policies: quota decision for %s: malformed result %v", r.Resource, obj)
	}
	return QuotaDecision{Allow: allow, Reason: reason}, nil
}

// ChildLimitViolations lists, sorted, why a parent may not give a child the
// limits child: a child unlimited or above the parent where the parent is
// limited, a negative child limit, an unknown resource. None means the limits
// are acceptable.
func (q *QuotaPolicy) ChildLimitViolations(ctx context.Context, parent, child Limits) ([]string, error) {
	input := ast.NewObject(
		ast.Item(ast.InternedTerm("parent"), limitsTerm(parent)),
		ast.Item(ast.InternedTerm("child"), limitsTerm(child)),
	)
	v, err := evalOne(ctx, q.violations, input)
	if err != nil {
		return nil, fmt.Errorf("policies: child limit violations: %w", err)
	}
	set, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policies: child limit violations: want a set, got %T", v)
	}
	out := make([]string, 0, len(set))
	for _, e := range set {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("policies: child limit violations: want strings, got %T", e)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// evalOne evaluates a prepared query whose result must be defined. The input
// is built as an ast.Value so that OPA does not round-trip it through JSON.
func evalOne(ctx context.Context, pq rego.PreparedEvalQuery, input ast.Value) (any, error) {
	rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("eval: undefined result")
	}
	return rs[0].Expressions[0].Value, nil
}

func int64Term(n int64) *ast.Term {
	return ast.NumberTerm(json.Number(strconv.FormatInt(n, 10)))
}

func limitTerm(l *int64) *ast.Term {
	if l == nil {
		return ast.NullTerm()
	}
	return int64Term(*l)
}

func limitsTerm(l Limits) *ast.Term {
	items := make([][2]*ast.Term, 0, len(l))
	for k, v := range l {
		items = append(items, ast.Item(ast.StringTerm(k), limitTerm(v)))
	}
	return ast.NewTerm(ast.NewObject(items...))
}
