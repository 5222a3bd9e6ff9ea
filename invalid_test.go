package bpfarena_test

import (
	"bytes"
	"errors"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"strings"
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/bpf"
)

// Objects that must not load fail on both engines with the kernel's (or
// libbpf's) errno.
func TestInvalidObjects(t *testing.T) {
	want := map[string]syscall.Errno{
		"bad_flag":              syscall.EINVAL,
		"globals_too_big":       syscall.E2BIG,
		"globals_without_arena": syscall.ENOENT,
		"key_size":              syscall.EINVAL,
		"map_extra_straddles":   syscall.ERANGE,
		"map_extra_unaligned":   syscall.EINVAL,
		"not_mmapable":          syscall.EINVAL,
		"too_large":             syscall.E2BIG,
		"two_arenas":            syscall.EINVAL,
	}
	names, _ := bpf.Glob("invalid/*.bpf.o")
	if len(names) == 0 {
		t.Fatal("no invalid objects")
	}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "invalid/"), ".bpf.o")
		errno, ok := want[base]
		if !ok {
			t.Errorf("%s: no expected errno in this test", name)
			continue
		}
		t.Run(base, func(t *testing.T) {
			b, err := bpf.Read(name)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := bpfarena.LoadSpecFromReader(bytes.NewReader(b), name)
			if err != nil {
				// libbpf's own rejections happen while reading.
				if !errors.Is(err, errno) {
					t.Fatalf("reading: %v, want %v", err, errno)
				}
				return
			}
			forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
				coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng})
				if err == nil {
					coll.Close()
					t.Fatal("loaded")
				}
				if errors.Is(err, bpfarena.ErrNotSupported) {
					testenv.SkipKernel(t, err)
				}
				if !errors.Is(err, errno) {
					t.Fatalf("%v, want %v", err, errno)
				}
			})
		})
	}
}
