package main

import (
	"bytes"
	"errors"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"testing"

	"github.com/bpfarena/bpfarena"
)

func TestKvstore(t *testing.T) {
	for _, engine := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		t.Run(engine.String(), func(t *testing.T) {
			var out bytes.Buffer
			err := run(&out, engine, 300)
			if engine == bpfarena.Kernel && errors.Is(err, bpfarena.ErrNotSupported) {
				testenv.SkipKernel(t, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := out.String()
			want := "lookup 1: found true, value 10\nlookup 300: found true, value 3000\nlookup 301: found false, value 0\n" +
				"during updates: 300 lookups, each found its key's value; 303 lookups in all\n"
			if i := bytes.IndexByte(out.Bytes(), '\n'); i < 0 || got[i+1:] != want {
				t.Fatalf("got\n%s\nwant after the first line\n%s", got, want)
			}
		})
	}
}
