package bpfarena_test

import (
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
)

// The vm says which rule an invalid arena map breaks.
func TestInvalidArenaReasons(t *testing.T) {
	for obj, want := range map[string]string{
		"invalid/bad_flag.bpf.o":     "unknown map_flags 0x80",
		"invalid/key_size.bpf.o":     "key size 4 and value size 0",
		"invalid/not_mmapable.bpf.o": "without BPF_F_MMAPABLE",
	} {
		_, err := bpfarena.Load(loadEmbedded(obj), bpfarena.Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want it to say %q", obj, err, want)
		}
	}
}
