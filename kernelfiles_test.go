package bpfarena_test

import (
	"testing"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/internal/matrix"
)

// With Options.Kernel naming a version, the vm gives __kconfig externs
// that kernel's version and configuration, and CO-RE its types, from the
// kernel matrix's cache of Debian's package.
func TestKernelFiles(t *testing.T) {
	spec := specOf(t, "corpus/kconfig.bpf.o")
	for _, tt := range []struct {
		kernel string
		minor  uint32
	}{{"6.12", 12}, {"7.3", 3}} {
		t.Run(tt.kernel, func(t *testing.T) {
			k, err := matrix.Cached(tt.kernel)
			if err != nil {
				t.Skipf("kernel %s is not in the matrix's cache (go run ./internal/cmd/matrix fetch %s): %v", tt.kernel, tt.kernel, err)
			}
			coll, err := bpfarena.Load(spec, bpfarena.Options{Kernel: tt.kernel})
			if err != nil {
				t.Fatal(err)
			}
			defer coll.Close()
			res, err := coll.Program("kernel_minor").Test(bpfarena.RunOptions{})
			if err != nil || res.Retval != tt.minor {
				t.Errorf("LINUX_KERNEL_VERSION minor %d, %v; want %d (%s)", res.Retval, err, tt.minor, k.Release)
			}
			res, err = coll.Program("has_bpf_syscall").Test(bpfarena.RunOptions{})
			if err != nil || res.Retval != 1 {
				t.Errorf("CONFIG_BPF_SYSCALL %d, %v; want 1 from %s", res.Retval, err, k.Config)
			}
		})
	}
}
