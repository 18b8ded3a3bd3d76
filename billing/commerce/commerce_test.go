package commerce_test

import (
	"testing"

	"github.com/marquee-video/marquee/billing/commerce"
	"github.com/marquee-video/marquee/internal/errs"
)

func TestOfferInputValidate(t *testing.T) {
	cases := []struct {
		name  string
		in    commerce.OfferInput
		field string // "" when valid
	}{
		{"svod", commerce.OfferInput{Kind: "svod", Name: "Premium", Price: 999, Currency: "usd", Tier: "premium", AdFree: true}, ""},
		{"rental", commerce.OfferInput{Kind: "rental", Name: "Film", Price: 399, Currency: "eur", WindowHours: 48, TitleID: "ttl_1"}, ""},
		{"purchase", commerce.OfferInput{Kind: "purchase", Name: "Film", Price: 1299, Currency: "gbp", TitleID: "ttl_1"}, ""},
		{"unknown kind", commerce.OfferInput{Kind: "avod", Name: "x", Price: 1, Currency: "usd"}, "kind"},
		{"free", commerce.OfferInput{Kind: "purchase", Name: "x", Price: 0, Currency: "usd", TitleID: "t"}, "price"},
		{"upper-case currency", commerce.OfferInput{Kind: "purchase", Name: "x", Price: 1, Currency: "USD", TitleID: "t"}, "currency"},
		{"svod without tier", commerce.OfferInput{Kind: "svod", Name: "x", Price: 1, Currency: "usd"}, "tier"},
		{"svod with a title", commerce.OfferInput{Kind: "svod", Name: "x", Price: 1, Currency: "usd", Tier: "t", TitleID: "ttl"}, "kind"},
		{"rental without window", commerce.OfferInput{Kind: "rental", Name: "x", Price: 1, Currency: "usd", TitleID: "t"}, "window_hours"},
		{"rental of 100 days", commerce.OfferInput{Kind: "rental", Name: "x", Price: 1, Currency: "usd", TitleID: "t", WindowHours: 2400}, "window_hours"},
		{"rental without title", commerce.OfferInput{Kind: "rental", Name: "x", Price: 1, Currency: "usd", WindowHours: 24}, "title_id"},
		{"purchase with window", commerce.OfferInput{Kind: "purchase", Name: "x", Price: 1, Currency: "usd", TitleID: "t", WindowHours: 24}, "window_hours"},
		{"no name", commerce.OfferInput{Kind: "purchase", Price: 1, Currency: "usd", TitleID: "t"}, "name"},
	}
	for _, c := range cases {
		err := c.in.Validate()
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.field != "" && (errs.CodeOf(err) != commerce.CodeInvalidOffer || errs.As(err).Field != c.field):
			t.Errorf("%s: %v, want %s on %s", c.name, err, commerce.CodeInvalidOffer, c.field)
		}
	}
}
