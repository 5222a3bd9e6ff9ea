package bpfarena_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every file and directory the READMEs name in backquotes exists.
func TestReadmePaths(t *testing.T) {
	quoted := regexp.MustCompile("`([^`\\s]+)`")
	pathLike := regexp.MustCompile(`^(\.ci|bpf|cmd|examples|internal|arena|asm|object)(/[\w.\-]+)*/?$|^[\w\-]+\.(go|md|sh)$`)
	for _, readme := range []string{"README.md", "bpf/README.md", "examples/README.md"} {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range quoted.FindAllStringSubmatch(string(b), -1) {
			p := m[1]
			if !pathLike.MatchString(p) || strings.Contains(p, "NAME") {
				continue
			}
			n++
			cands := []string{p, filepath.Join(filepath.Dir(readme), p)}
			found := false
			for _, c := range cands {
				if _, err := os.Stat(c); err == nil {
					found = true
				}
			}
			if !found {
				t.Errorf("%s names %s, which does not exist", readme, p)
			}
		}
		if n == 0 {
			t.Errorf("%s: no paths found; the pattern is wrong", readme)
		}
	}
}
