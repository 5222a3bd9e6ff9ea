//go:build linux

package kernel

import (
	"testing"

	"github.com/bpfarena/bpfarena/internal/kversion"
)

// The kfunc table of package kversion agrees with the running kernel's
// BTF: each kfunc the vm offers exists exactly on the kernels the table
// says it does.
func TestKfuncTableMatchesBTF(t *testing.T) {
	requireKernel(t)
	rel, err := kversion.HostRelease()
	if err != nil {
		t.Fatal(err)
	}
	v, err := kversion.ParseVersion(rel)
	if err != nil {
		t.Fatal(err)
	}
	m, err := kversion.Lookup(v)
	if err != nil || m.Version != v {
		t.Skipf("kernel %s has no model of its own", rel)
	}
	for _, k := range kversion.Kfuncs {
		_, err := findKernelSym(idxFunc, k.Name)
		inBTF := err == nil
		if want := m.HasKfunc(k.Name) == nil; inBTF != want {
			t.Errorf("%s: in %s's BTF %v, the table says %v (since %s)", k.Name, rel, inBTF, want, k.Since)
		}
	}
}
