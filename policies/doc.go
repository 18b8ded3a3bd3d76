// Package policies is Marquee's authorization: it answers "may this role do
// this" with casbin and the data-dependent questions with OPA. Both policies
// are embedded in the binary and tested with the package; nothing is read from
// disk at run time.
//
// # Roles: casbin RBAC with domains
//
// The domain is the tenant id. rbac_model.conf and rbac_policy.csv are
// embedded; an [Authorizer] loads them into a synced, cached enforcer.
//
// Casbin does not know users. The caller resolves the principal's role in the
// tenant from its memberships table and asks [Authorizer.Allowed] with that
// role, so memberships have one source of truth and adding a tenant or a member
// touches no policy.
//
// Each role's permissions are written once, with the domain "*", and hold in
// every tenant. Writing them per tenant would make casbin scan rows linearly
// in the number of tenants for every decision.
//
// The hierarchy (owner and platform_ops inherit admin; every role inherits an
// internal viewer role holding the reads all roles share) is written as g rows
// in the domain "*", matched to every tenant with a domain matching function,
// rather than flattened: the csv then reads as the spec does ("owner is admin
// plus ..."), a permission added to admin cannot be forgotten for owner, and a
// tenant-specific role link stays possible should one ever be needed.
//
// platform_ops is meaningful only in the platform root tenant's domain.
// Allowed does not know which tenant that is: the caller must check the tenant
// is the platform root before asking with platform_ops.
//
// Decisions are cached per (role, tenant, object, action) in a bounded LRU.
// Object/action pairs no policy row grants, and unknown roles, are denied
// before casbin is asked, so invented names cannot fill the cache.
//
// # Quotas: OPA
//
// quota.rego (package marquee.quota) decides whether a tenant may consume
// quota ([QuotaPolicy.Decide]) and which limits a parent may not give a child
// ([QuotaPolicy.ChildLimitViolations]). Its queries are prepared once in
// [NewQuotaPolicy]. quota_test.rego holds the rego unit tests; the Go tests
// run them with OPA's tester, so a failing rego test fails go test.
//
// Rules that need data (entitlements, geo, parental rating, ad eligibility)
// belong in further rego modules here, each with its own prepared queries.
package policies
