package main

import (
	"bytes"
	"errors"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"testing"

	"github.com/bpfarena/bpfarena"
)

func TestHeap(t *testing.T) {
	for _, engine := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		t.Run(engine.String(), func(t *testing.T) {
			var out bytes.Buffer
			err := run(&out, engine)
			if engine == bpfarena.Kernel && errors.Is(err, bpfarena.ErrNotSupported) {
				testenv.SkipKernel(t, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := "sorted 500 values: first 0, last 1006, sum 251744\narena pages present after the run: 0\n"
			if out.String() != want {
				t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
			}
		})
	}
}
