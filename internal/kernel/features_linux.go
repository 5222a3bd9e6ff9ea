//go:build linux

package kernel

import (
	"fmt"

	"github.com/bpfarena/bpfarena/internal/kversion"
)

// Probe lists what the running kernel supports for arena programs, as
// this process sees it: bpf(2), arena maps, and each kfunc the vm knows,
// looked up in the kernel's BTF.
func Probe() []Feature {
	var fs []Feature
	rel, _ := kversion.HostRelease()
	model := "none"
	if m, err := kversion.Parse("host"); err == nil {
		model = m.String()
	} else {
		model = err.Error()
	}
	fs = append(fs, Feature{Name: "release", OK: true, Detail: rel + " (vm model for host: " + model + ")"})
	if err := probeFor(false); err != nil {
		return append(fs, Feature{Name: "bpf(2)", Detail: err.Error()})
	}
	fs = append(fs, Feature{Name: "bpf(2)", OK: true})
	if err := probeFor(true); err != nil {
		fs = append(fs, Feature{Name: "arena maps", Detail: err.Error()})
	} else {
		fs = append(fs, Feature{Name: "arena maps", OK: true})
	}
	for _, k := range kversion.Kfuncs {
		f := Feature{Name: "kfunc " + k.Name}
		if _, err := findKernelSym(idxFunc, k.Name); err == nil {
			f.OK = true
		} else {
			f.Detail = fmt.Sprintf("not in the kernel's BTF (arrived in %s)", k.Since)
		}
		fs = append(fs, f)
	}
	return fs
}
