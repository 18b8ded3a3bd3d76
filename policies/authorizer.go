package policies

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist/cache"
	"github.com/casbin/casbin/v2/util"
)

//go:embed rbac_model.conf
var rbacModel string

//go:embed rbac_policy.csv
var rbacPolicy string

// Roles a member of a tenant can hold.
const (
	RoleOwner   = "owner"
	RoleAdmin   = "admin"
	RoleEditor  = "editor"
	RoleAnalyst = "analyst"
	RoleBilling = "billing"
	// RolePlatformOps operates the whole platform. It means something only in
	// the platform root tenant's domain; Allowed does not check that, the
	// caller does.
	RolePlatformOps = "platform_ops"
)

// Objects that permissions are granted on.
const (
	ObjectTenant    = "tenant"
	ObjectSubtenant = "subtenant"
	ObjectQuota     = "quota"
	ObjectAPIKey    = "api_key"
	ObjectBranding  = "branding"
	ObjectMember    = "member"
	ObjectAsset     = "asset"
	ObjectUsage     = "usage"
	ObjectInvoice   = "invoice"
	ObjectOps       = "ops"
)

// Actions on objects.
const (
	ActionRead   = "read"
	ActionWrite  = "write"
	ActionCreate = "create"
	ActionDelete = "delete"
)

// Roles lists the roles a caller may ask with, owner first and platform_ops
// last.
func Roles() []string {
	return []string{RoleOwner, RoleAdmin, RoleEditor, RoleAnalyst, RoleBilling, RolePlatformOps}
}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleEditor, RoleAnalyst, RoleBilling, RolePlatformOps:
		return true
	}
	return false
}

// decisionCacheSize bounds the decision cache. casbin's own cache is a map
// that never shrinks, and its keys include the tenant id, so with many tenants
// it would grow without limit. A tenant's full matrix is under 150 entries;
// 64Ki entries of about 60-byte keys is a few MiB.
const decisionCacheSize = 1 << 16

// Authorizer answers whether a role may perform an action on an object in a
// tenant. It is safe for concurrent use.
type Authorizer struct {
	enforcer *casbin.SyncedCachedEnforcer
	// granted holds every object/action pair some policy row grants. Other
	// pairs are denied before they reach casbin so that made-up names cannot
	// fill the decision cache.
	granted map[permission]struct{}
}

type permission struct{ object, action string }

// NewAuthorizer builds an Authorizer from the embedded model and policy.
func NewAuthorizer() (*Authorizer, error) {
	m, err := model.NewModelFromString(rbacModel)
	if err != nil {
		return nil, fmt.Errorf("policies: parse rbac model: %w", err)
	}
	rules, err := parsePolicy(rbacPolicy)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewSyncedCachedEnforcer(m, &embeddedAdapter{rules: rules})
	if err != nil {
		return nil, fmt.Errorf("policies: build enforcer: %w", err)
	}
	// The hierarchy rows use the domain "*"; KeyMatch makes them hold in
	// every tenant without a copy per tenant.
	e.AddNamedDomainMatchingFunc("g", "KeyMatch", util.KeyMatch)
	if err := e.BuildRoleLinks(); err != nil {
		return nil, fmt.Errorf("policies: build role links: %w", err)
	}
	e.SetCache(newDecisionCache(decisionCacheSize))

	a := &Authorizer{enforcer: e, granted: make(map[permission]struct{})}
	for _, r := range rules {
		if r[0] == "p" {
			a.granted[permission{object: r[3], action: r[4]}] = struct{}{}
		}
	}
	return a, nil
}

// Allowed reports whether role may perform action on object in the tenant
// domain tenantID. An unknown role, object or action is not allowed and is not
// an error. An empty tenantID is an error: the caller failed to resolve the
// tenant, which is a bug, not a denial.
func (a *Authorizer) Allowed(role, tenantID, object, action string) (bool, error) {
	if tenantID == "" {
		return false, errors.New("policies: tenant id is required")
	}
	if !ValidRole(role) {
		return false, nil
	}
	if _, ok := a.granted[permission{object: object, action: action}]; !ok {
		return false, nil
	}
	ok, err := a.enforcer.Enforce(role, tenantID, object, action)
	if err != nil {
		return false, fmt.Errorf("policies: enforce %s %s:%s in %s: %w", role, object, action, tenantID, err)
	}
	return ok, nil
}

// parsePolicy reads casbin policy lines ("p, ..." and "g, ..."), skipping
// blank lines and # comments. Unlike casbin's string adapter, it reports a
// malformed line instead of dropping it.
func parsePolicy(text string) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	var rules [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rules, nil
		}
		if err != nil {
			return nil, fmt.Errorf("policies: parse rbac policy: %w", err)
		}
		line, _ := r.FieldPos(0)
		switch {
		case rec[0] == "p" && len(rec) == 5, rec[0] == "g" && len(rec) == 4:
		default:
			return nil, fmt.Errorf("policies: rbac policy line %d: want \"p, role, domain, object, action\" or \"g, role, inherited, domain\", got %q", line, strings.Join(rec, ", "))
		}
		for _, f := range rec {
			if f == "" {
				return nil, fmt.Errorf("policies: rbac policy line %d: empty field", line)
			}
		}
		rules = append(rules, rec)
	}
}

// embeddedAdapter is a read-only casbin adapter over already parsed rules. It
// exists so that loading goes through casbin's normal LoadPolicy path, with
// errors reported, and no file is read at run time.
type embeddedAdapter struct {
	rules [][]string
}

var errReadOnly = errors.New("policies: the embedded rbac policy is read-only")

func (a *embeddedAdapter) LoadPolicy(m model.Model) error {
	for _, r := range a.rules {
		sec := r[0]
		if err := m.AddPolicy(sec, sec, r[1:]); err != nil {
			return fmt.Errorf("policies: load rule %q: %w", strings.Join(r, ", "), err)
		}
	}
	return nil
}

func (a *embeddedAdapter) SavePolicy(model.Model) error                { return errReadOnly }
func (a *embeddedAdapter) AddPolicy(string, string, []string) error    { return errReadOnly }
func (a *embeddedAdapter) RemovePolicy(string, string, []string) error { return errReadOnly }
func (a *embeddedAdapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errReadOnly
}

// decisionCache is a bounded, concurrency-safe casbin decision cache. When
// full it starts over rather than evicting one entry at a time: a miss costs
// one casbin evaluation, and reads stay a read-locked map lookup, cheaper than
// an LRU's locked list update.
type decisionCache struct {
	mu        sync.RWMutex
	decisions map[string]bool
	max       int
}

func newDecisionCache(max int) *decisionCache {
	return &decisionCache{decisions: make(map[string]bool), max: max}
}

// Set ignores casbin's expiry argument: the policy is embedded and never
// changes while the process runs, so decisions never go stale.
func (c *decisionCache) Set(key string, value bool, _ ...any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.decisions) >= c.max {
		clear(c.decisions)
	}
	c.decisions[key] = value
	return nil
}

func (c *decisionCache) Get(key string) (bool, error) {
	c.mu.RLock()
	v, ok := c.decisions[key]
	c.mu.RUnlock()
	if !ok {
		return false, cache.ErrNoSuchKey
	}
	return v, nil
}

func (c *decisionCache) Delete(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.decisions[key]; !ok {
		return cache.ErrNoSuchKey
	}
	delete(c.decisions, key)
	return nil
}

func (c *decisionCache) Clear() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.decisions)
	return nil
}
