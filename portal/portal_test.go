package portal_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/marquee-video/marquee/portal"
)

func TestAssetsHasIndex(t *testing.T) {
	assets := portal.Assets()
	index, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		t.Fatalf("index.html: %v", err)
	}
	// Every file index.html loads by absolute path must be embedded too.
	for _, m := range regexp.MustCompile(`(?:src|href)="/([^"]+)"`).FindAllSubmatch(index, -1) {
		if _, err := fs.Stat(assets, string(m[1])); err != nil {
			t.Errorf("index.html loads /%s, which is not in Assets(): %v", m[1], err)
		}
	}
}

// TestModuleImportsResolve guards against a renamed file that breaks an ES
// module import, which only shows as a blank page in a browser.
func TestModuleImportsResolve(t *testing.T) {
	assets := portal.Assets()
	imports := regexp.MustCompile(`(?m)^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'`)
	err := fs.WalkDir(assets, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".js") {
			return err
		}
		src, err := fs.ReadFile(assets, path)
		if err != nil {
			return err
		}
		for _, m := range imports.FindAllSubmatch(src, -1) {
			target := filepath.ToSlash(filepath.Join(filepath.Dir(path), string(m[1])))
			if _, err := fs.Stat(assets, target); err != nil {
				t.Errorf("%s imports %s, which does not exist", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestE2ETestIDsExist checks that every data-testid the browser tests use is
// written somewhere in the portal's sources, so a renamed test id fails here,
// cheaply, rather than as a timeout in Chromium.
func TestE2ETestIDsExist(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "tests", "e2e", "*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no e2e tests found under tests/e2e (%v)", err)
	}
	var e2e []byte
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read e2e test: %v", err)
		}
		e2e = append(e2e, src...)
	}
	used := map[string]bool{}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?:getByTestId|tid)\(\s*['"]([^'"]+)['"]`),
		regexp.MustCompile(`data-testid="([^"]+)"`),
	} {
		for _, m := range re.FindAllSubmatch(e2e, -1) {
			used[string(m[1])] = true
		}
	}
	if len(used) == 0 {
		t.Fatal("found no test ids in tests/e2e/*.test.mjs; has the way it selects elements changed?")
	}

	// Test ids are written as string literals in the sources (testid: 'x',
	// data-testid="x", or an argument to a helper), so a quoted literal is
	// what to look for.
	var sources strings.Builder
	err = fs.WalkDir(portal.Assets(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".js") || strings.HasSuffix(path, ".html")) {
			return err
		}
		src, err := fs.ReadFile(portal.Assets(), path)
		sources.Write(src)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	all := sources.String()

	var missing []string
	for id := range used {
		if strings.Contains(all, "'"+id+"'") || strings.Contains(all, `"`+id+`"`) {
			continue
		}
		missing = append(missing, id)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("tests/e2e/*.test.mjs use data-testid values the portal never sets: %s", strings.Join(missing, ", "))
	}
}
