// Package testenv tells tests where they run. Inside a kernel matrix
// guest whose kernel has arenas, the kernel engine is the oracle under
// test: a kernel half that would skip there fails instead, so a run can
// never pass with the kernel side skipped.
package testenv

import (
	"os"
	"testing"

	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/internal/matrix"
)

// MatrixKernel returns the matrix kernel this process runs in, or "".
func MatrixKernel() string { return os.Getenv(matrix.EnvKernel) }

// KernelRequired reports whether the kernel engine must run here: inside
// a matrix guest whose kernel has arenas.
func KernelRequired() bool {
	k := MatrixKernel()
	if k == "" {
		return false
	}
	v, err := kversion.ParseVersion(k)
	return err == nil && !v.Less(kversion.ArenaSince)
}

// SkipKernel skips t because the kernel engine cannot run (err says
// why), or fails it where the kernel engine must run.
func SkipKernel(t testing.TB, err any) {
	t.Helper()
	if KernelRequired() {
		t.Fatalf("the kernel engine must run on matrix kernel %s: %v", MatrixKernel(), err)
	}
	t.Skip(err)
}
