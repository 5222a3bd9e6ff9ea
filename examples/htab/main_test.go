package main

import (
	"bytes"
	"errors"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
)

func TestHtab(t *testing.T) {
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
			for _, want := range []string{
				"build: 1000 entries\n",
				"go: 1000 entries in 256 buckets",
				"values sum to 333833500\n",
				"lookup: 1000 found, 1000 missed, values sum to 333833500\n",
				"destroy: freed 1000 entries\n",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
