//go:build linux && !(386 || arm || mips || mipsle)

package sys

import "unsafe"

// Pointer is a __aligned_u64 user pointer inside a bpf_attr. It holds a
// real unsafe.Pointer so the garbage collector keeps the target alive and
// stack copying updates it; a uint64 copy of the address would do neither.
type Pointer struct {
	ptr unsafe.Pointer
}
