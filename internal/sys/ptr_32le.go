//go:build linux && (386 || arm || mipsle)

package sys

import "unsafe"

// Pointer is a __aligned_u64 user pointer inside a bpf_attr (see ptr_64.go).
type Pointer struct {
	ptr unsafe.Pointer
	_   uint32
}
