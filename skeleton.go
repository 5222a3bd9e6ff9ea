package bpfarena

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bpfarena/bpfarena/internal/layout"
)

// ErrStale: a generated skeleton's Go types no longer match the object it
// embeds; run `go generate` again.
var ErrStale = errors.New("generated code does not match the object")

// Layout is one C type or global as a skeleton from `bpfarena gen` was
// generated for. Name is the type ("struct node", "union value",
// "enum color", "typedef pair_t") or the global ("var head"); Layout is
// the text the generator wrote for it: size, member offsets and types,
// enum values.
type Layout struct {
	Name   string
	Layout string
}

// CheckLayouts compares the layouts a skeleton was generated for with the
// types of spec. It returns an error wrapping ErrStale that names every
// type and global that changed or vanished. Generated loaders call it, so
// that Go types that no longer match the object fail at load instead of
// reading the wrong bytes.
func CheckLayouts(spec *Spec, want []Layout) error {
	var bad []string
	for _, w := range want {
		got, err := currentLayout(spec, w.Name, w.Layout)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %v", w.Name, err))
		case got != w.Layout:
			bad = append(bad, fmt.Sprintf("%s: generated for %s, the object has %s", w.Name, w.Layout, got))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w: %s", spec.Path, ErrStale, strings.Join(bad, "; "))
}

// currentLayout is the layout of name in spec; among several types of that
// name (an object may carry duplicates) it prefers the one matching want.
func currentLayout(spec *Spec, name, want string) (string, error) {
	if v, ok := strings.CutPrefix(name, "var "); ok {
		vs := spec.Variable(v)
		if vs == nil {
			return "", errors.New("no such global in the object")
		}
		return layout.Ref(vs.Type), nil
	}
	if spec.BTF == nil {
		return "", errors.New("the object has no BTF")
	}
	types, err := layout.Lookup(spec.BTF, name)
	if err != nil {
		return "", err
	}
	got := ""
	for _, t := range types {
		if got = layout.Decl(t); got == want {
			break
		}
	}
	return got, nil
}
