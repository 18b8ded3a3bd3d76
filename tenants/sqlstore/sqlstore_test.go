package sqlstore_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/marquee-video/marquee/internal/db"
	"github.com/marquee-video/marquee/internal/db/dbtest"
	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/internal/objects"
	"github.com/marquee-video/marquee/policies"
	"github.com/marquee-video/marquee/tenants"
	"github.com/marquee-video/marquee/tenants/sqlstore"
)

func newService(t *testing.T, d *db.DB) *tenants.Service {
	t.Helper()
	ctx := context.Background()
	q, err := policies.NewQuotaPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := objects.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := tenants.NewSessions(bytes.Repeat([]byte{1}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := tenants.NewService(tenants.Config{Store: sqlstore.New(d), Quotas: q, Objects: objs, Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.EnsureRoot(ctx); err != nil {
		t.Fatal(err)
	}
	return svc
}

func limit(n int64) *int64 { return &n }

// TestTenantTree runs the same store suite on PostgreSQL and SQLite.
func TestTenantTree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := newService(t, d)
		root, err := svc.Root(ctx)
		if err != nil {
			t.Fatal(err)
		}
		again, err := svc.EnsureRoot(ctx)
		if err != nil || again.ID != root.ID {
			t.Fatalf("EnsureRoot is not idempotent: %v %v", again.ID, err)
		}

		r, err := svc.CreateChild(ctx, root, tenants.CreateTenantInput{Name: "Reseller", Kind: tenants.KindReseller, Slug: "reseller-one"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := svc.CreateChild(ctx, r, tenants.CreateTenantInput{Name: "Creator", Kind: tenants.KindCreator})
		if err != nil {
			t.Fatal(err)
		}
		if c.Slug != "creator" || *c.ParentID != r.ID || !c.Within(root.ID) || !c.Within(r.ID) {
			t.Fatalf("child: %+v", c)
		}
		// A clashing derived slug gets a suffix; an explicit one is refused.
		c2, err := svc.CreateChild(ctx, r, tenants.CreateTenantInput{Name: "Creator", Kind: tenants.KindCreator})
		if err != nil || c2.Slug == c.Slug {
			t.Fatalf("second creator: %+v %v", c2, err)
		}
		_, err = svc.CreateChild(ctx, r, tenants.CreateTenantInput{Name: "X", Kind: tenants.KindCreator, Slug: "reseller-one"})
		if errs.CodeOf(err) != "slug_taken" {
			t.Fatalf("taken slug: %v", err)
		}
		if _, err := svc.CreateChild(ctx, c, tenants.CreateTenantInput{Name: "X", Kind: tenants.KindCreator}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("creator with child: %v", err)
		}

		kids, next, err := svc.Children(ctx, r, tenants.Page{Limit: 1})
		if err != nil || len(kids) != 1 || next == "" {
			t.Fatalf("page 1: %v %q %v", kids, next, err)
		}
		p2, _ := tenants.ParsePage(1, next)
		kids2, next2, err := svc.Children(ctx, r, p2)
		if err != nil || len(kids2) != 1 || next2 != "" || kids2[0].ID == kids[0].ID {
			t.Fatalf("page 2: %v %q %v", kids2, next2, err)
		}

		// Suspension cascades and resumes exactly what it suspended.
		suspended := tenants.StatusSuspended
		if _, err := svc.UpdateChild(ctx, r, c2.ID, tenants.UpdateTenantInput{Status: &suspended}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateChild(ctx, root, r.ID, tenants.UpdateTenantInput{Status: &suspended}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{r.ID, c.ID, c2.ID} {
			got, _ := svc.Tenant(ctx, root, id)
			if got.Status != tenants.StatusSuspended {
				t.Fatalf("%s not suspended", id)
			}
		}
		active := tenants.StatusActive
		renamed := "Renamed"
		if _, err := svc.UpdateChild(ctx, r, c.ID, tenants.UpdateTenantInput{Name: &renamed, Status: &active}); errs.CodeOf(err) != "suspended_by_ancestor" {
			t.Fatalf("resume under suspended ancestor: %v", err)
		}
		if got, _ := svc.Tenant(ctx, root, c.ID); got.Name != c.Name {
			t.Fatalf("a refused update renamed the tenant to %q", got.Name)
		}
		if _, err := svc.UpdateChild(ctx, root, r.ID, tenants.UpdateTenantInput{Status: &active}); err != nil {
			t.Fatal(err)
		}
		gotC, _ := svc.Tenant(ctx, root, c.ID)
		gotC2, _ := svc.Tenant(ctx, root, c2.ID)
		if gotC.Status != tenants.StatusActive || gotC2.Status != tenants.StatusSuspended {
			t.Fatalf("after resume: c %s (want active), c2 %s (want suspended, on its own)", gotC.Status, gotC2.Status)
		}

		// A tenant with children cannot be deleted; a leaf can, with its data.
		if err := svc.DeleteChild(ctx, root, r.ID); errs.CodeOf(err) != "tenant_has_children" {
			t.Fatalf("delete with children: %v", err)
		}
		if err := svc.DeleteChild(ctx, r, c2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Tenant(ctx, r, c2.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("deleted tenant still readable: %v", err)
		}
		// A tenant cannot manage itself or its ancestors.
		if _, err := svc.UpdateChild(ctx, r, r.ID, tenants.UpdateTenantInput{Status: &suspended}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("self-suspend: %v", err)
		}
		if _, err := svc.Tenant(ctx, c, r.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("child reads parent: %v", err)
		}
	})
}

func TestQuotasNeverExceedTheParent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := newService(t, d)
		root, _ := svc.Root(ctx)
		r, err := svc.CreateChild(ctx, root, tenants.CreateTenantInput{Name: "Reseller", Kind: tenants.KindReseller})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := svc.SetLimits(ctx, root, r.ID, tenants.Limits{tenants.ResAssets: limit(100), tenants.ResSubTenants: limit(5)})
		if err != nil {
			t.Fatal(err)
		}
		if *rep.Limits[tenants.ResAssets] != 100 || rep.Limits[tenants.ResStorageBytes] != nil {
			t.Fatalf("limits: %v", rep.Limits)
		}
		c, err := svc.CreateChild(ctx, r, tenants.CreateTenantInput{Name: "Creator", Kind: tenants.KindCreator})
		if err != nil {
			t.Fatal(err)
		}
		// The child starts with the parent's limits.
		crep, err := svc.Quotas(ctx, r, c.ID)
		if err != nil || crep.Limits[tenants.ResAssets] == nil || *crep.Limits[tenants.ResAssets] != 100 {
			t.Fatalf("child limits: %v %v", crep.Limits, err)
		}
		for _, bad := range []tenants.Limits{
			{tenants.ResAssets: limit(101)},
			{tenants.ResAssets: nil},
		} {
			if _, err := svc.SetLimits(ctx, r, c.ID, bad); errs.CodeOf(err) != "quota_above_parent" {
				t.Errorf("%v: got %v, want quota_above_parent", bad, err)
			}
		}
		if _, err := svc.SetLimits(ctx, r, c.ID, tenants.Limits{tenants.ResAssets: limit(40)}); err != nil {
			t.Fatal(err)
		}
		// The parent's usage counts its children.
		prep, err := svc.Quotas(ctx, r, r.ID)
		if err != nil || prep.Usage[tenants.ResSubTenants] != 1 {
			t.Fatalf("parent usage: %v %v", prep.Usage, err)
		}
		// Nobody sets their own limits.
		if _, err := svc.SetLimits(ctx, r, r.ID, tenants.Limits{tenants.ResAssets: limit(1000)}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("own limits: %v", err)
		}
	})
}

// TestSubTenantQuotaRace: 50 concurrent creations against a limit of 10.
func TestSubTenantQuotaRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := newService(t, d)
		root, _ := svc.Root(ctx)
		r, err := svc.CreateChild(ctx, root, tenants.CreateTenantInput{Name: "Reseller", Kind: tenants.KindReseller})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetLimits(ctx, root, r.ID, tenants.Limits{tenants.ResSubTenants: limit(10)}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make(chan error, 50)
		for i := range 50 {
			wg.Go(func() {
				_, err := svc.CreateChild(ctx, r, tenants.CreateTenantInput{Name: "Creator " + string(rune('A'+i%26)) + string(rune('a'+i/26)), Kind: tenants.KindCreator})
				results <- err
			})
		}
		wg.Wait()
		close(results)
		ok, exceeded := 0, 0
		for err := range results {
			switch {
			case err == nil:
				ok++
			case errs.CodeOf(err) == "quota_exceeded":
				exceeded++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 10 || exceeded != 40 {
			t.Fatalf("%d created and %d refused, want 10 and 40", ok, exceeded)
		}
		rep, _ := svc.Quotas(ctx, r, r.ID)
		if rep.Usage[tenants.ResSubTenants] != 10 {
			t.Fatalf("usage %d, want 10", rep.Usage[tenants.ResSubTenants])
		}
	})
}

func TestUsersKeysAndBranding(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := newService(t, d)
		ten, u, tok, err := svc.Signup(ctx, tenants.SignupInput{Email: " Ana@Example.com ", Password: "correct horse battery", Name: "Ana's Films"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "ana@example.com" || ten.Kind != tenants.KindCreator || tok == "" {
			t.Fatalf("signup: %+v %+v", ten, u)
		}
		if _, _, _, err := svc.Signup(ctx, tenants.SignupInput{Email: "ana@example.com", Password: "correct horse battery", Name: "Again"}); errs.CodeOf(err) != "email_taken" {
			t.Fatalf("duplicate signup: %v", err)
		}
		// The failed sign-up left no tenant behind.
		root, _ := svc.Root(ctx)
		kids, _, _ := svc.Children(ctx, root, tenants.Page{Limit: 10})
		if len(kids) != 1 {
			t.Fatalf("root has %d children after a refused sign-up, want 1", len(kids))
		}
		tok2, m, err := svc.Login(ctx, tenants.LoginInput{Email: "ANA@example.com", Password: "correct horse battery"})
		if err != nil || m.TenantID != ten.ID || m.Role != tenants.RoleOwner {
			t.Fatalf("login: %v %+v", err, m)
		}
		p, err := svc.Authenticate(ctx, tok2)
		if err != nil || p.ID != u.ID || p.TenantID != ten.ID {
			t.Fatalf("authenticate session: %+v %v", p, err)
		}
		if _, _, err := svc.Login(ctx, tenants.LoginInput{Email: "ana@example.com", Password: "wrong password!"}); errs.CodeOf(err) != "invalid_credentials" {
			t.Fatalf("wrong password: %v", err)
		}
		if _, _, err := svc.Login(ctx, tenants.LoginInput{Email: "nobody@example.com", Password: "wrong password!"}); errs.CodeOf(err) != "invalid_credentials" {
			t.Fatalf("unknown user: %v", err)
		}

		k, secret, err := svc.CreateAPIKey(ctx, ten, tenants.CreateAPIKeyInput{Name: "ci", Role: "editor"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.CreateAPIKey(ctx, ten, tenants.CreateAPIKeyInput{Name: "ops", Role: tenants.RolePlatformOps}); err == nil {
			t.Fatal("a creator granted platform_ops")
		}
		p, err = svc.Authenticate(ctx, secret)
		if err != nil || p.Kind != "api_key" || p.ID != k.ID || p.Role != "editor" || p.TenantID != ten.ID {
			t.Fatalf("authenticate key: %+v %v", p, err)
		}
		keys, _, _ := svc.APIKeys(ctx, ten, tenants.Page{Limit: 10})
		if len(keys) != 1 || keys[0].LastUsedAt == nil || keys[0].SecretHash == secret {
			t.Fatalf("keys: %+v", keys)
		}
		if err := svc.RevokeAPIKey(ctx, ten, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, secret); errs.CodeOf(err) != "invalid_api_key" {
			t.Fatalf("revoked key: %v", err)
		}
		if err := svc.RevokeAPIKey(ctx, ten, k.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("revoke twice: %v", err)
		}

		color := "#ABCDEF"
		name := "Ana TV"
		b, err := svc.UpdateBranding(ctx, ten, tenants.BrandingInput{PrimaryColor: &color, DisplayName: &name})
		if err != nil || b.PrimaryColor != "#abcdef" || b.DisplayName != "Ana TV" || b.AccentColor == "" {
			t.Fatalf("branding: %+v %v", b, err)
		}
		pub, err := svc.PublicBranding(ctx, ten.Slug, "")
		if err != nil || pub.DisplayName != "Ana TV" || pub.PrimaryColor != "#abcdef" {
			t.Fatalf("public branding: %+v %v", pub, err)
		}
		if _, err := svc.PublicBranding(ctx, "no-such-tenant", ""); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown slug: %v", err)
		}
	})
}
