package bpfarena_test

import (
	"github.com/bpfarena/bpfarena/internal/testenv"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/bpf"
	"github.com/bpfarena/bpfarena/internal/conformance"
)

// The annotated corpus: on the vm modelling each kernel version, and on
// both engines with the vm modelling the running kernel, where each
// program loads (or is rejected with the annotated messages), returns the
// annotated value, and the engines agree. The kernel half skips where it
// cannot run; tests outside the kernel range their annotations name skip.
func TestCorpus(t *testing.T) {
	names, err := bpf.Glob("corpus/*.bpf.o")
	if err != nil || len(names) == 0 {
		t.Fatalf("no corpus objects: %v", err)
	}
	type run struct {
		name    string
		engines []bpfarena.Engine
		kernel  string
	}
	var runs []run
	if k, ok := conformance.HostModelled(); ok {
		runs = append(runs, run{"both", []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel}, k})
	} else {
		t.Log("the running kernel has no vm model: the engines are not compared")
	}
	// Inside a matrix guest only the comparison with its kernel is new;
	// the vm's own runs are done on the host.
	for _, k := range bpfarena.KernelVersions() {
		if testenv.MatrixKernel() == "" {
			runs = append(runs, run{"vm-" + k, []bpfarena.Engine{bpfarena.VM}, k})
		}
	}
	for _, rn := range runs {
		t.Run(rn.name, func(t *testing.T) {
			total := 0
			for _, name := range names {
				spec := specOf(t, name)
				results, err := conformance.RunSpecKernel(spec, rn.engines, rn.kernel)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range results {
					total++
					t.Run(strings.TrimSuffix(strings.TrimPrefix(name, "corpus/"), ".bpf.o")+"/"+r.Program, func(t *testing.T) {
						if r.NotSupported() && testenv.KernelRequired() {
							testenv.SkipKernel(t, r.Reason)
						}
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
		})
	}
}
