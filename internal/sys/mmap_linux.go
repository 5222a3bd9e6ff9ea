//go:build linux

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// MapFixedNoReplace is MAP_FIXED_NOREPLACE (Linux 4.17+): place a mapping
// exactly at addr, failing with EEXIST instead of replacing what is there.
const MapFixedNoReplace = 0x100000

// Mmap maps length bytes of fd at addr (a hint, or exact with MAP_FIXED*)
// and returns the mapping as a slice. unix.Mmap cannot take an address,
// which arenas with map_extra need. The memory is outside the Go heap: the
// slice is valid exactly as long as the mapping.
func Mmap(addr uintptr, length uintptr, prot, flags, fd int) ([]byte, error) {
	// The hint is an address outside the Go heap, never a Go pointer;
	// reinterpreting the integer avoids a uintptr conversion vet flags.
	hint := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	p, err := unix.MmapPtr(fd, 0, hint, length, prot, flags)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), length), nil
}

// Munmap removes a mapping made by Mmap.
func Munmap(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.MunmapPtr(unsafe.Pointer(&b[0]), uintptr(len(b)))
}

// Addr is the address of a mapping's first byte.
func Addr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}
