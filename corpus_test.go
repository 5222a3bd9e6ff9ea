package bpfarena_test

import (
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/bpf"
	"github.com/bpfarena/bpfarena/internal/conformance"
)

// The annotated corpus, on both engines: each program loads (or is
// rejected with the annotated messages) and returns the annotated value,
// and the engines agree. The kernel half skips where it cannot run.
func TestCorpus(t *testing.T) {
	names, err := bpf.Glob("corpus/*.bpf.o")
	if err != nil || len(names) == 0 {
		t.Fatalf("no corpus objects: %v", err)
	}
	total := 0
	for _, name := range names {
		spec := specOf(t, name)
		results, err := conformance.RunSpec(spec, []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			total++
			t.Run(strings.TrimSuffix(strings.TrimPrefix(name, "corpus/"), ".bpf.o")+"/"+r.Program, func(t *testing.T) {
				switch r.Status {
				case conformance.Fail:
					t.Error(r.Reason)
				case conformance.Skip:
					t.Skip(r.Reason)
				}
			})
		}
	}
	if total == 0 {
		t.Fatal("the corpus has no annotated program")
	}
}
