package bpfarena_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
)

// The rejection clang-19's memset through an uncast arena pointer causes
// names its cause and the way around it; other rejections carry no hint.
func TestUncastArenaHint(t *testing.T) {
	for _, c := range []struct {
		obj, prog, hint string
	}{
		{"corpus/arena_memset.bpf.o", "zero_two_members", "WRITE_ONCE(n->left, NULL)"},
		{"corpus/arena_verifier.bpf.o", "deref_kfunc_result_without_cast", ""},
	} {
		spec := loadEmbedded(c.obj)
		_, err := bpfarena.Load(spec, bpfarena.Options{Programs: []string{c.prog}})
		var ve *bpfarena.VerifierError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: %v, want a VerifierError", c.prog, err)
		}
		if c.hint == "" {
			if ve.Hint != "" {
				t.Errorf("%s: unexpected hint %q", c.prog, ve.Hint)
			}
			continue
		}
		if !strings.Contains(ve.Hint, c.hint) || !strings.Contains(err.Error(), "merges stores through an __arena pointer") {
			t.Errorf("%s: %v", c.prog, err)
		}
	}
}
