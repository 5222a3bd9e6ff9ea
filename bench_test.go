package bpfarena_test

import (
	"errors"
	"testing"

	"github.com/bpfarena/bpfarena"
)

// BenchmarkPrograms runs the bench object's programs on both engines side
// by side: go test -bench Programs -run '^$' .
func BenchmarkPrograms(b *testing.B) {
	spec := specOf(b, "examples/bench.bpf.o")
	for _, eng := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng})
		if errors.Is(err, bpfarena.ErrNotSupported) {
			b.Logf("%v: %v", eng, err)
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range coll.Programs() {
			b.Run(p.Name()+"/"+eng.String(), func(b *testing.B) {
				for b.Loop() {
					if _, err := p.Run(nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		coll.Close()
	}
}

// BenchmarkLoad measures loading the bench object on each engine.
func BenchmarkLoad(b *testing.B) {
	spec := specOf(b, "examples/bench.bpf.o")
	for _, eng := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		b.Run(eng.String(), func(b *testing.B) {
			for b.Loop() {
				coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng})
				if errors.Is(err, bpfarena.ErrNotSupported) {
					b.Skip(err)
				}
				if err != nil {
					b.Fatal(err)
				}
				coll.Close()
			}
		})
	}
}

// BenchmarkArenaPages measures Go-side page allocation and free on each
// engine (the kernel engine goes through a built-in program).
func BenchmarkArenaPages(b *testing.B) {
	spec := specOf(b, "examples/list.bpf.o")
	for _, eng := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		b.Run(eng.String(), func(b *testing.B) {
			coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng})
			if errors.Is(err, bpfarena.ErrNotSupported) {
				b.Skip(err)
			}
			if err != nil {
				b.Fatal(err)
			}
			defer coll.Close()
			a := coll.Arena()
			for b.Loop() {
				addr, err := a.Alloc(1)
				if err != nil {
					b.Fatal(err)
				}
				if err := a.Free(addr, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
