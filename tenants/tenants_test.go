package tenants_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/marquee-video/marquee/internal/errs"
	"github.com/marquee-video/marquee/tenants"
)

func ptr[T any](v T) *T { return &v }

// wantValid fails unless err is nil (code == "") or a classified error
// with code and, when field is not empty, that field.
func wantValid(t *testing.T, err error, code, field string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e := errs.As(err)
	if e == nil {
		t.Fatalf("error %v, want code %s", err, code)
	}
	if e.Code != code || (field != "" && e.Field != field) {
		t.Fatalf("error %s (field %q), want %s (field %q)", err, e.Field, code, field)
	}
	if e.Message == "" {
		t.Errorf("error %s has no message for the caller", code)
	}
	if st := e.Kind.Status(); st < 400 || st >= 500 {
		t.Errorf("error %s has status %d", code, st)
	}
}

const goodPassword = "correct horse battery staple"

func TestSignupInputValidate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        tenants.SignupInput
		code      string
		field     string
		wantEmail string
		wantName  string
	}{
		{name: "valid", in: tenants.SignupInput{Email: "a@example.com", Password: goodPassword, Name: "A"}, wantEmail: "a@example.com", wantName: "A"},
		{name: "normalized", in: tenants.SignupInput{Email: "  Ann.Lee+tv@Example.COM ", Password: goodPassword, Name: "  Ann's TV \t"}, wantEmail: "ann.lee+tv@example.com", wantName: "Ann's TV"},
		{name: "unicode name of 100 runes", in: tenants.SignupInput{Email: "u@example.com", Password: goodPassword, Name: strings.Repeat("é", 100)}, wantEmail: "u@example.com", wantName: strings.Repeat("é", 100)},
		{name: "password of 10 runes in 20 bytes", in: tenants.SignupInput{Email: "p@example.com", Password: strings.Repeat("é", 10), Name: "P"}, wantEmail: "p@example.com", wantName: "P"},
		{name: "password of 256 bytes", in: tenants.SignupInput{Email: "p@example.com", Password: strings.Repeat("p", 256), Name: "P"}, wantEmail: "p@example.com", wantName: "P"},
		{name: "no email", in: tenants.SignupInput{Password: goodPassword, Name: "A"}, code: "invalid_request", field: "email"},
		{name: "blank email", in: tenants.SignupInput{Email: "   ", Password: goodPassword, Name: "A"}, code: "invalid_request", field: "email"},
		{name: "email without @", in: tenants.SignupInput{Email: "example.com", Password: goodPassword, Name: "A"}, code: "invalid_request", field: "email"},
		{name: "email without a dot in the domain", in: tenants.SignupInput{Email: "a@localhost", Password: goodPassword, Name: "A"}, code: "invalid_request", field: "email"},
		{name: "email with a display name", in: tenants.SignupInput{Email: "A <a@example.com>", Password: goodPassword, Name: "A"}, code: "invalid_request", field: "email"},
		{name: "two emails", in: tenants.SignupInput{Email: "a@example.com, b@example.com", Password: goodPassword, Name: "A"}, code: "invalid_request", field: "email"},
		{name: "email with a newline", in: tenants.SignupInput{Email: "a@example.com\nBcc: b@example.com", Password: goodPassword, Name: "A"}, code: "invalid_request", field: "email"},
		{name: "email too long", in: tenants.SignupInput{Email: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".com", Password: goodPassword, Name: "A"}, code: "invalid_request", field: "email"},
		{name: "short password", in: tenants.SignupInput{Email: "a@example.com", Password: "123456789", Name: "A"}, code: "invalid_request", field: "password"},
		{name: "password of 257 bytes", in: tenants.SignupInput{Email: "a@example.com", Password: strings.Repeat("p", 257), Name: "A"}, code: "invalid_request", field: "password"},
		{name: "no name", in: tenants.SignupInput{Email: "a@example.com", Password: goodPassword}, code: "invalid_request", field: "name"},
		{name: "blank name", in: tenants.SignupInput{Email: "a@example.com", Password: goodPassword, Name: " \t\n "}, code: "invalid_request", field: "name"},
		{name: "name of 101 runes", in: tenants.SignupInput{Email: "a@example.com", Password: goodPassword, Name: strings.Repeat("é", 101)}, code: "invalid_request", field: "name"},
		{name: "name with a bell", in: tenants.SignupInput{Email: "a@example.com", Password: goodPassword, Name: "a\ab"}, code: "invalid_request", field: "name"},
		{name: "name with DEL", in: tenants.SignupInput{Email: "a@example.com", Password: goodPassword, Name: "a\x7fb"}, code: "invalid_request", field: "name"},
		{name: "name with an inner newline", in: tenants.SignupInput{Email: "a@example.com", Password: goodPassword, Name: "a\nb"}, code: "invalid_request", field: "name"},
		{name: "name with invalid UTF-8", in: tenants.SignupInput{Email: "a@example.com", Password: goodPassword, Name: "a\xffb"}, code: "invalid_request", field: "name"},
		// U+009B is the C1 control CSI: it starts terminal escape sequences
		// when a name is printed by the CLI or shown in a log viewer.
		{name: "name with a C1 control", in: tenants.SignupInput{Email: "a@example.com", Password: goodPassword, Name: "a\u009b31mb"}, code: "invalid_request", field: "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := in.Validate()
			wantValid(t, err, tc.code, tc.field)
			if tc.code == "" && (in.Email != tc.wantEmail || in.Name != tc.wantName) {
				t.Errorf("normalized to %q %q, want %q %q", in.Email, in.Name, tc.wantEmail, tc.wantName)
			}
		})
	}
}

func TestLoginInputValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    tenants.LoginInput
		code  string
		field string
	}{
		{"valid", tenants.LoginInput{Email: " A@Example.com ", Password: "x"}, "", ""},
		{"no email", tenants.LoginInput{Password: "x"}, "invalid_request", "email"},
		{"no password", tenants.LoginInput{Email: "a@example.com"}, "invalid_request", "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			wantValid(t, in.Validate(), tc.code, tc.field)
			if tc.code == "" && in.Email != "a@example.com" {
				t.Errorf("email normalized to %q", in.Email)
			}
		})
	}
}

func TestCreateTenantInputValidate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       tenants.CreateTenantInput
		code     string
		field    string
		wantSlug string
	}{
		{name: "creator", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindCreator}},
		{name: "reseller with slug and plan", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindReseller, Slug: "my-shop-2", Plan: "pro_2"}, wantSlug: "my-shop-2"},
		{name: "upper-case slug is lowered", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindCreator, Slug: "My-Shop"}, wantSlug: "my-shop"},
		{name: "slug of 63", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindCreator, Slug: strings.Repeat("a", 63)}, wantSlug: strings.Repeat("a", 63)},
		{name: "no name", in: tenants.CreateTenantInput{Kind: tenants.KindCreator}, code: "invalid_request", field: "name"},
		{name: "name of 101", in: tenants.CreateTenantInput{Name: strings.Repeat("n", 101), Kind: tenants.KindCreator}, code: "invalid_request", field: "name"},
		{name: "name with a tab inside", in: tenants.CreateTenantInput{Name: "a\tb", Kind: tenants.KindCreator}, code: "invalid_request", field: "name"},
		{name: "no kind", in: tenants.CreateTenantInput{Name: "Shop"}, code: "invalid_request", field: "kind"},
		{name: "platform kind", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindPlatform}, code: "invalid_request", field: "kind"},
		{name: "unknown kind", in: tenants.CreateTenantInput{Name: "Shop", Kind: "Creator"}, code: "invalid_request", field: "kind"},
		{name: "slug of 2", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindCreator, Slug: "ab"}, code: "invalid_request", field: "slug"},
		{name: "slug of 64", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindCreator, Slug: strings.Repeat("a", 64)}, code: "invalid_request", field: "slug"},
		{name: "reserved slug", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindCreator, Slug: "WWW"}, code: "slug_taken", field: "slug"},
		{name: "bad plan", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindCreator, Plan: "Pro"}, code: "invalid_request", field: "plan"},
		{name: "plan of 41", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindCreator, Plan: strings.Repeat("p", 41)}, code: "invalid_request", field: "plan"},
		{name: "plan starting with a hyphen", in: tenants.CreateTenantInput{Name: "Shop", Kind: tenants.KindCreator, Plan: "-pro"}, code: "invalid_request", field: "plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			wantValid(t, in.Validate(), tc.code, tc.field)
			if tc.code == "" && in.Slug != tc.wantSlug {
				t.Errorf("slug %q, want %q", in.Slug, tc.wantSlug)
			}
		})
	}
}

func TestValidateSlug(t *testing.T) {
	for _, tc := range []struct {
		slug string
		code string
	}{
		{"abc", ""},
		{"a-b", ""},
		{"123", ""},
		{"my-shop-tv", ""},
		{strings.Repeat("x", 63), ""},
		{"", "invalid_request"},
		{"ab", "invalid_request"},
		{strings.Repeat("x", 64), "invalid_request"},
		{"-abc", "invalid_request"},
		{"abc-", "invalid_request"},
		{"ab--c", "invalid_request"},
		{"Abc", "invalid_request"},
		{"a_b", "invalid_request"},
		{"a.b", "invalid_request"},
		{"ab c", "invalid_request"},
		{"ab\n", "invalid_request"},
		{"café", "invalid_request"},
		{"www", "slug_taken"},
		{"admin", "slug_taken"},
		{"platform", "slug_taken"},
		{"api", "slug_taken"},
	} {
		t.Run(tc.slug, func(t *testing.T) {
			err := tenants.ValidateSlug(tc.slug)
			wantValid(t, err, tc.code, "slug")
			if tc.code == "slug_taken" && !errs.Is(err, errs.Conflict) {
				t.Errorf("a reserved slug is %v, want a Conflict", err)
			}
		})
	}
}

func TestUpdateTenantInputValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    tenants.UpdateTenantInput
		code  string
		field string
	}{
		{"name", tenants.UpdateTenantInput{Name: ptr(" New ")}, "", ""},
		{"plan", tenants.UpdateTenantInput{Plan: ptr("enterprise")}, "", ""},
		{"suspend", tenants.UpdateTenantInput{Status: ptr(tenants.StatusSuspended)}, "", ""},
		{"resume", tenants.UpdateTenantInput{Status: ptr(tenants.StatusActive)}, "", ""},
		{"everything", tenants.UpdateTenantInput{Name: ptr("N"), Plan: ptr("pro"), Status: ptr(tenants.StatusActive)}, "", ""},
		{"nothing", tenants.UpdateTenantInput{}, "invalid_request", ""},
		{"empty name", tenants.UpdateTenantInput{Name: ptr("")}, "invalid_request", "name"},
		{"name with a control", tenants.UpdateTenantInput{Name: ptr("a\x1bb")}, "invalid_request", "name"},
		{"bad plan", tenants.UpdateTenantInput{Plan: ptr("Gold Plan")}, "invalid_request", "plan"},
		// An empty plan on create means "the default"; on update it would
		// store a tenant without a plan.
		{"empty plan", tenants.UpdateTenantInput{Plan: ptr("")}, "invalid_request", "plan"},
		{"unknown status", tenants.UpdateTenantInput{Status: ptr(tenants.Status("deleted"))}, "invalid_request", "status"},
		{"empty status", tenants.UpdateTenantInput{Status: ptr(tenants.Status(""))}, "invalid_request", "status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			wantValid(t, in.Validate(), tc.code, tc.field)
			if tc.name == "name" && *in.Name != "New" {
				t.Errorf("name normalized to %q", *in.Name)
			}
		})
	}
}

func TestCreateAPIKeyInputValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    tenants.CreateAPIKeyInput
		code  string
		field string
	}{
		{"valid", tenants.CreateAPIKeyInput{Name: "ci", Role: "editor"}, "", ""},
		{"no name", tenants.CreateAPIKeyInput{Role: "editor"}, "invalid_request", "name"},
		{"no role", tenants.CreateAPIKeyInput{Name: "ci"}, "invalid_request", "role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			wantValid(t, in.Validate(), tc.code, tc.field)
		})
	}
}

func TestValidRole(t *testing.T) {
	for _, tc := range []struct {
		kind tenants.Kind
		role string
		want bool
	}{
		{tenants.KindCreator, tenants.RoleOwner, true},
		{tenants.KindReseller, tenants.RoleBilling, true},
		{tenants.KindPlatform, tenants.RolePlatformOps, true},
		{tenants.KindCreator, tenants.RolePlatformOps, false},
		{tenants.KindReseller, tenants.RolePlatformOps, false},
		{tenants.KindCreator, "viewer", false},
		{tenants.KindCreator, "", false},
		{tenants.KindCreator, "Owner", false},
	} {
		if got := tenants.ValidRole(tc.kind, tc.role); got != tc.want {
			t.Errorf("ValidRole(%s, %q) = %v, want %v", tc.kind, tc.role, got, tc.want)
		}
	}
}

func TestBrandingInputValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    tenants.BrandingInput
		code  string
		field string
	}{
		{"nothing", tenants.BrandingInput{}, "", ""},
		{"everything", tenants.BrandingInput{DisplayName: ptr("TV"), PrimaryColor: ptr("#ABCDEF"), AccentColor: ptr("#000000"), BackgroundColor: ptr("#ffffff"), EmailSenderName: ptr("Ann's TV")}, "", ""},
		{"colour name", tenants.BrandingInput{PrimaryColor: ptr("red")}, "invalid_request", "primary_color"},
		{"short colour", tenants.BrandingInput{AccentColor: ptr("#abc")}, "invalid_request", "accent_color"},
		{"colour with alpha", tenants.BrandingInput{BackgroundColor: ptr("#aabbccdd")}, "invalid_request", "background_color"},
		{"colour without #", tenants.BrandingInput{PrimaryColor: ptr("aabbcc")}, "invalid_request", "primary_color"},
		{"colour not hex", tenants.BrandingInput{PrimaryColor: ptr("#gggggg")}, "invalid_request", "primary_color"},
		{"colour with a newline", tenants.BrandingInput{PrimaryColor: ptr("#aabbcc\n")}, "invalid_request", "primary_color"},
		{"empty colour", tenants.BrandingInput{AccentColor: ptr("")}, "invalid_request", "accent_color"},
		{"empty display name", tenants.BrandingInput{DisplayName: ptr("")}, "invalid_request", "display_name"},
		{"long display name", tenants.BrandingInput{DisplayName: ptr(strings.Repeat("d", 101))}, "invalid_request", "display_name"},
		{"display name with NUL", tenants.BrandingInput{DisplayName: ptr("a\x00b")}, "invalid_request", "display_name"},
		{"sender with <", tenants.BrandingInput{EmailSenderName: ptr("Evil <evil@example.com>")}, "invalid_request", "email_sender_name"},
		{"sender with a quote", tenants.BrandingInput{EmailSenderName: ptr(`a"b`)}, "invalid_request", "email_sender_name"},
		{"sender with CRLF", tenants.BrandingInput{EmailSenderName: ptr("a\r\nBcc: x@example.com")}, "invalid_request", "email_sender_name"},
		{"empty sender", tenants.BrandingInput{EmailSenderName: ptr(" ")}, "invalid_request", "email_sender_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			wantValid(t, in.Validate(), tc.code, tc.field)
			if tc.name == "everything" && (*in.PrimaryColor != "#abcdef" || *in.BackgroundColor != "#ffffff") {
				t.Errorf("colours not lowered: %q %q", *in.PrimaryColor, *in.BackgroundColor)
			}
		})
	}
}

func TestAddDomainInputValidate(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	for _, tc := range []struct {
		domain string
		want   string // normalized, or "" for invalid
	}{
		{"watch.example.com", "watch.example.com"},
		{"  Watch.Example.COM.  ", "watch.example.com"},
		{"a-b.c-d.example", "a-b.c-d.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{label63 + ".example.com", label63 + ".example.com"},
		{strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 126) + "a"}, // 253
		{"", ""},
		{"localhost", ""},
		{".example.com", ""},
		{"a..example.com", ""},
		{"example.com..", ""},
		{"-a.example.com", ""},
		{"a-.example.com", ""},
		{"a_b.example.com", ""},
		{"bücher.example", ""},
		{"example.com:443", ""},
		{"https://example.com", ""},
		{"example.com/path", ""},
		{"*.example.com", ""},
		{"a b.example.com", ""},
		{strings.Repeat("a", 64) + ".example.com", ""},
		{strings.Repeat("a.", 127) + "a", ""}, // 255
	} {
		t.Run(tc.domain, func(t *testing.T) {
			in := tenants.AddDomainInput{Domain: tc.domain}
			err := in.Validate()
			if tc.want == "" {
				wantValid(t, err, "invalid_request", "domain")
				return
			}
			wantValid(t, err, "", "")
			if in.Domain != tc.want {
				t.Errorf("normalized to %q, want %q", in.Domain, tc.want)
			}
		})
	}
}

func TestLimitsValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    tenants.Limits
		code  string
		field string
	}{
		{"nil", nil, "", ""},
		{"empty", tenants.Limits{}, "", ""},
		{"every resource", tenants.Limits{"storage_bytes": ptr[int64](1 << 40), "transcode_minutes_per_month": ptr[int64](600), "assets": ptr[int64](0), "concurrent_jobs": ptr[int64](2), "sub_tenants": nil, "egress_gb_per_month": ptr[int64](1)}, "", ""},
		{"the maximum", tenants.Limits{"assets": ptr[int64](1 << 62)}, "", ""},
		{"above the maximum", tenants.Limits{"assets": ptr[int64](1<<62 + 1)}, "invalid_request", "assets"},
		{"negative", tenants.Limits{"storage_bytes": ptr[int64](-1)}, "invalid_request", "storage_bytes"},
		{"most negative", tenants.Limits{"sub_tenants": ptr[int64](-1 << 63)}, "invalid_request", "sub_tenants"},
		{"unknown resource", tenants.Limits{"widgets": ptr[int64](1)}, "invalid_request", "widgets"},
		{"resource in another case", tenants.Limits{"Assets": ptr[int64](1)}, "invalid_request", "Assets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantValid(t, tc.in.Validate(), tc.code, tc.field)
		})
	}
	if got := tenants.Resources(); len(got) != 6 {
		t.Errorf("Resources() = %v", got)
	}
	for _, r := range tenants.Resources() {
		if tenants.DefaultSignupLimits()[r] == nil {
			t.Errorf("the sign-up plan leaves %s unlimited", r)
		}
	}
	if err := tenants.DefaultSignupLimits().Validate(); err != nil {
		t.Errorf("the sign-up limits are invalid: %v", err)
	}
}

func TestParsePage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  int
		cursor string
		want   tenants.Page
		code   string
	}{
		{"defaults", 0, "", tenants.Page{Limit: 50}, ""},
		{"one", 1, "", tenants.Page{Limit: 1}, ""},
		{"the maximum", 200, "", tenants.Page{Limit: 200}, ""},
		{"above the maximum", 201, "", tenants.Page{}, "invalid_request"},
		{"negative", -1, "", tenants.Page{}, "invalid_request"},
		{"a cursor", 10, tenants.Cursor("ten_01hzzzzzzzzzzzzzzzzzzzzzzz"), tenants.Page{Limit: 10, After: "ten_01hzzzzzzzzzzzzzzzzzzzzzzz"}, ""},
		{"a 64-byte cursor", 10, tenants.Cursor(strings.Repeat("x", 64)), tenants.Page{Limit: 10, After: strings.Repeat("x", 64)}, ""},
		{"a 65-byte cursor", 10, tenants.Cursor(strings.Repeat("x", 65)), tenants.Page{}, "invalid_cursor"},
		{"not base64url", 10, "!!!", tenants.Page{}, "invalid_cursor"},
		{"padded base64", 10, base64.URLEncoding.EncodeToString([]byte("ab")), tenants.Page{}, "invalid_cursor"},
		{"standard base64", 10, base64.RawStdEncoding.EncodeToString([]byte{0xfb, 0xff}), tenants.Page{}, "invalid_cursor"},
		{"not UTF-8", 10, base64.RawURLEncoding.EncodeToString([]byte{0xff}), tenants.Page{}, "invalid_cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tenants.ParsePage(tc.limit, tc.cursor)
			wantValid(t, err, tc.code, "")
			if tc.code == "" && p != tc.want {
				t.Errorf("ParsePage = %+v, want %+v", p, tc.want)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, id := range []string{"ten_01hzzzzzzzzzzzzzzzzzzzzzzz", "key_01j0000000000000000000000a", "x", "é/+=?&", strings.Repeat("z", 64)} {
		c := tenants.Cursor(id)
		if strings.ContainsAny(c, "+/=") {
			t.Errorf("cursor %q is not URL-safe", c)
		}
		p, err := tenants.ParsePage(5, c)
		if err != nil || p.After != id || p.Limit != 5 {
			t.Errorf("Cursor(%q) = %q parses to %+v, %v", id, c, p, err)
		}
	}
}

func TestTenantTree(t *testing.T) {
	c := tenants.Tenant{ID: "ten_c", Path: "/ten_root/ten_r/ten_c/", Kind: tenants.KindCreator}
	r := tenants.Tenant{ID: "ten_r", Path: "/ten_root/ten_r/", Kind: tenants.KindReseller}
	for _, tc := range []struct {
		t        tenants.Tenant
		ancestor string
		want     bool
	}{
		{c, "ten_c", true},
		{c, "ten_r", true},
		{c, "ten_root", true},
		{c, "ten_", false},
		{r, "ten_c", false},
		{c, "ten_x", false},
	} {
		if got := tc.t.Within(tc.ancestor); got != tc.want {
			t.Errorf("%s.Within(%q) = %v, want %v", tc.t.ID, tc.ancestor, got, tc.want)
		}
	}
	if c.CanHaveChildren() || !r.CanHaveChildren() || !(tenants.Tenant{Kind: tenants.KindPlatform}).CanHaveChildren() {
		t.Error("only creators are leaves")
	}
}

func TestWithVerification(t *testing.T) {
	d := tenants.WithVerification(tenants.Domain{Domain: "tv.example.com", Token: "tok"})
	if d.Verified || d.Verification != (tenants.DomainVerification{Type: "TXT", Name: "_marquee-challenge.tv.example.com", Value: "marquee-verification=tok"}) {
		t.Errorf("WithVerification = %+v", d)
	}
}
