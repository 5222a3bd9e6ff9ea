//go:build linux

package sys

import "unsafe"

// NewPointer points at p.
func NewPointer(p unsafe.Pointer) Pointer { return Pointer{ptr: p} }

// SlicePointer points at the first element of b, or is NULL for an empty b.
func SlicePointer[T any](b []T) Pointer {
	if len(b) == 0 {
		return Pointer{}
	}
	return Pointer{ptr: unsafe.Pointer(&b[0])}
}

// StringPointer points at a NUL-terminated copy of s.
func StringPointer(s string) Pointer {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return Pointer{ptr: unsafe.Pointer(&b[0])}
}
