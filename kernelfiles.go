package bpfarena

import (
	"os"
	"sync"

	"github.com/bpfarena/bpfarena/internal/kconfig"
	"github.com/bpfarena/bpfarena/internal/matrix"
	"github.com/cilium/ebpf/btf"
)

// kernelFiles are a modelled kernel's types and configuration, from the
// kernel matrix's cache of Debian's package of it (bpfarena's command
// fetches it on first use of --kernel; `go run
// ./internal/cmd/matrix fetch` does too).
type kernelFiles struct {
	btf    *btf.Spec
	config *kconfig.Config
}

var kernelFilesCache sync.Map // version name -> *kernelFiles

// modelledKernelFiles returns what the cache holds for version, or nil
// parts: the vm then reads the running kernel's instead.
func modelledKernelFiles(version string) *kernelFiles {
	if v, ok := kernelFilesCache.Load(version); ok {
		return v.(*kernelFiles)
	}
	kf := &kernelFiles{}
	if k, err := matrix.Cached(version); err == nil {
		if f, err := os.Open(k.Config); err == nil {
			c := kconfig.Config{Values: map[string]string{}, Version: kconfig.ParseVersion(k.Release)}
			kconfig.Parse(f, c.Values)
			f.Close()
			kf.config = &c
		}
		if s, err := btf.LoadSpec(k.BTF); err == nil {
			kf.btf = s
		}
	}
	kernelFilesCache.Store(version, kf)
	return kf
}
