// Package objects stores tenants' files by key. The embedded default keeps
// them in a local folder (Local); S3-compatible storage implements the same
// methods. Keys are slash-separated and always start with the tenant's
// prefix ("tenants/<id>/…"), which callers build.
package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/marquee-video/marquee/internal/errs"
)

// Local stores objects as files under a root folder.
type Local struct {
	root string
}

// NewLocal returns a store rooted at dir, creating it.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("objects: %w", err)
	}
	return &Local{root: dir}, nil
}

func (l *Local) path(key string) (string, error) {
	clean := path.Clean("/" + key)
	if key == "" || clean != "/"+key || strings.Contains(key, "\\") {
		return "", errs.E(errs.Invalid, "invalid_key", "object key %q is not a clean relative path", key)
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// Put writes the object atomically: readers see the old bytes or the new,
// never a part.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, _ string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("objects: put %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return fmt.Errorf("objects: put %s: %w", key, err)
	}
	defer os.Remove(f.Name())
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("wrote %d bytes, expected %d", n, size)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		return fmt.Errorf("objects: put %s: %w", key, err)
	}
	return nil
}

// Get opens the object for reading.
func (l *Local) Get(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, errs.NotFoundf("object not found")
	}
	if err != nil {
		return nil, fmt.Errorf("objects: get %s: %w", key, err)
	}
	// A folder of objects is not an object.
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		return nil, errs.NotFoundf("object not found")
	}
	return f, nil
}

// Delete removes the object; a missing object is not an error.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("objects: delete %s: %w", key, err)
	}
	return nil
}
