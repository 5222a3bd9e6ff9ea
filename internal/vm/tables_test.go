package vm

import (
	"testing"

	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/internal/vm/verifier"
)

// The verifier's kfunc and helper tables and the runtime's are the same
// lists, and every kfunc has its release in package kversion: a kfunc
// the verifier admits always runs, and the model knows when it arrived.
func TestTablesAgree(t *testing.T) {
	known := map[string]bool{}
	for _, k := range kversion.Kfuncs {
		known[k.Name] = true
	}
	for _, name := range verifier.KfuncNames() {
		if _, ok := kfuncs[name]; !ok {
			t.Errorf("kfunc %s: verified but not run", name)
		}
		if !known[name] {
			t.Errorf("kfunc %s: no release in kversion.Kfuncs", name)
		}
	}
	verified := map[string]bool{}
	for _, name := range verifier.KfuncNames() {
		verified[name] = true
	}
	for name := range kfuncs {
		if !verified[name] {
			t.Errorf("kfunc %s: run but refused by the verifier", name)
		}
	}
	vhelpers := map[int32]bool{}
	for _, id := range verifier.HelperIDs() {
		vhelpers[id] = true
		if _, ok := helpers[id]; !ok {
			t.Errorf("helper %d: verified but not run", id)
		}
	}
	for id := range helpers {
		if !vhelpers[id] {
			t.Errorf("helper %d: run but refused by the verifier", id)
		}
	}
}
