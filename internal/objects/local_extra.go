package objects

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/marquee-video/marquee/internal/errs"
)

var _ Store = (*Local)(nil)

// tempPrefix names Put's in-flight files; List and DeletePrefix's count skip
// them so that a half-written object is never reported.
const tempPrefix = ".put-"

// List walks only the folder that holds prefix's last complete segment, so
// listing one tenant does not read the others' folders.
func (l *Local) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	start := l.root
	if dir := prefix[:strings.LastIndex(prefix, "/")+1]; dir != "" {
		p, err := l.path(strings.TrimSuffix(dir, "/"))
		if err != nil {
			return nil, err
		}
		start = p
	}
	out := []ObjectInfo{}
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && isNotExist(err) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		key, err := l.key(p)
		if err != nil || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if isNotExist(err) {
			return nil // deleted while we walked
		}
		if err != nil {
			return err
		}
		out = append(out, ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("objects: list %s: %w", prefix, err)
	}
	// WalkDir's order is per folder ("a/b" before "a.txt"); S3 orders whole keys.
	slices.SortFunc(out, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// DeletePrefix removes the folder named by prefix and everything in it.
func (l *Local) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	if err := checkDeletePrefix(prefix); err != nil {
		return 0, err
	}
	dir, err := l.path(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return 0, err
	}
	// "a.mp4/" names no folder when a.mp4 is an object: nothing to delete.
	if fi, err := os.Lstat(dir); isNotExist(err) || (err == nil && !fi.IsDir()) {
		return 0, nil
	}
	n := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if err := os.Remove(p); err != nil && !isNotExist(err) {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), tempPrefix) {
			n++
		}
		return nil
	})
	if err == nil {
		err = os.RemoveAll(dir)
	}
	if err != nil {
		return n, fmt.Errorf("objects: delete prefix %s: %w", prefix, err)
	}
	return n, nil
}

// Stat describes the object. Local keeps no metadata beside the bytes, so
// ContentType is guessed from the key's extension, as a file server would.
func (l *Local) Stat(_ context.Context, key string) (ObjectInfo, error) {
	p, err := l.path(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	fi, err := os.Stat(p)
	if isNotExist(err) || (err == nil && !fi.Mode().IsRegular()) {
		return ObjectInfo{}, errs.NotFoundf("object not found")
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("objects: stat %s: %w", key, err)
	}
	return ObjectInfo{
		Key:         key,
		Size:        fi.Size(),
		ContentType: mime.TypeByExtension(path.Ext(key)),
		ModTime:     fi.ModTime(),
	}, nil
}

// PutFile copies the file at src into the store through Put, so it is as
// atomic as Put.
func (l *Local) PutFile(ctx context.Context, key, src, contentType string) error {
	if _, err := l.path(key); err != nil {
		return err
	}
	f, size, err := openSized(src)
	if err != nil {
		return fmt.Errorf("objects: put file %s: %w", key, err)
	}
	defer f.Close()
	return l.Put(ctx, key, f, size, contentType)
}

// key turns a file path under the root back into its object key.
func (l *Local) key(p string) (string, error) {
	rel, err := filepath.Rel(l.root, p)
	if err != nil {
		return "", err
	}
	key := filepath.ToSlash(rel)
	if _, err := l.path(key); err != nil {
		return "", err
	}
	return key, nil
}

// openSized opens a regular file and returns its size.
func openSized(name string) (*os.File, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", name)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// isNotExist also treats "a path segment is a file" (ENOTDIR) as missing:
// Stat("a/b") when "a" is an object.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
