// Package ids makes Marquee's prefixed identifiers: a short type prefix and a
// lower-case ULID, such as ten_01jh3k5q8x2v7r6m4n9p0s1t2w. ULIDs sort by
// creation time, which is what cursor pagination orders by.
package ids

import (
	"strings"

	"github.com/oklog/ulid/v2"
)

// Prefixes of the identifiers Marquee issues.
const (
	Tenant = "ten"
	User   = "usr"
	APIKey = "key"
	Asset  = "ast"
	Job    = "job"
)

// New returns a fresh identifier with the given prefix.
func New(prefix string) string {
	return prefix + "_" + strings.ToLower(ulid.Make().String())
}

// Valid reports whether id looks like an identifier of the given prefix. It
// guards lookups so malformed ids never reach a query.
func Valid(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(rest) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(strings.ToUpper(rest))
	return err == nil
}
