//go:build linux && mips

package sys

import "unsafe"

// Pointer is a __aligned_u64 user pointer inside a bpf_attr (see ptr_64.go).
type Pointer struct {
	_   uint32
	ptr unsafe.Pointer
}
