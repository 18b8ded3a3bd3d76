package objects

import (
	"context"
	"io"
	"path"
	"strings"
	"time"

	"github.com/marquee-video/marquee/internal/errs"
)

// Store is what the platform needs from object storage. Local and S3
// implement it; a key is a clean, slash-separated relative path ("tenants/<id>/…"),
// anything else is refused with an errs.Invalid error before any I/O.
type Store interface {
	// Put writes the object from r. size is the exact byte count, or -1 when
	// unknown. Readers never see a partly written object.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the object; a missing one is errs.NotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List returns every object whose key starts with prefix, sorted by key.
	// The prefix is a plain string prefix, as in S3: "tenants/a" also matches
	// "tenants/ab/…", so callers pass prefixes ending in "/". ContentType is
	// left empty, S3 listings do not carry it; Stat fills it.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// DeletePrefix removes every object under prefix and reports how many it
	// removed. The prefix must end in "/" and must not be empty, so that
	// deleting tenant 1's objects can never touch tenant 10's.
	DeletePrefix(ctx context.Context, prefix string) (int, error)
	// Stat describes one object; a missing one is errs.NotFound.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// PutFile uploads the file at path, streaming it.
	PutFile(ctx context.Context, key, path, contentType string) error
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// checkKey applies the rule Local.path applies: a key is a non-empty, clean,
// relative, slash-separated path. S3 uses it so that both stores accept
// exactly the same keys.
func checkKey(key string) error {
	if key == "" || path.Clean("/"+key) != "/"+key || strings.Contains(key, "\\") {
		return errs.E(errs.Invalid, "invalid_key", "object key %q is not a clean relative path", key)
	}
	return nil
}

// checkPrefix accepts "" (everything) or a key, optionally followed by one "/".
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkKey(strings.TrimSuffix(prefix, "/")); err != nil {
		return errs.E(errs.Invalid, "invalid_prefix", "object prefix %q is not a clean relative path", prefix)
	}
	return nil
}

// checkDeletePrefix is checkPrefix for destructive calls: the prefix must name
// a whole "folder", never everything or a partial name.
func checkDeletePrefix(prefix string) error {
	if prefix == "" || !strings.HasSuffix(prefix, "/") {
		return errs.E(errs.Invalid, "invalid_prefix", "a delete prefix must be a non-empty folder ending in \"/\", got %q", prefix)
	}
	return checkPrefix(prefix)
}
