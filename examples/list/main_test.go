package main

import (
	"bytes"
	"errors"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"testing"

	"github.com/bpfarena/bpfarena"
)

func TestList(t *testing.T) {
	for _, engine := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		t.Run(engine.String(), func(t *testing.T) {
			var out bytes.Buffer
			err := run(&out, engine, 5)
			if engine == bpfarena.Kernel && errors.Is(err, bpfarena.ErrNotSupported) {
				testenv.SkipKernel(t, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := "build: 5 nodes\nlist: 5 4 3 2 1\nsum: 15 (BPF and Go agree)\nteardown: freed 5 nodes, head = 0x0\n"
			if out.String() != want {
				t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
			}
		})
	}
}
