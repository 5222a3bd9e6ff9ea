//go:build linux || darwin

package vm

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmapAt maps size bytes exactly at addr, failing if anything is mapped
// there already. Linux has MAP_FIXED_NOREPLACE for that; elsewhere the
// address is a hint and the result is checked.
func mmapAt(addr, size uint64, prot, flags int) ([]byte, error) {
	if runtime.GOOS == "linux" {
		flags |= 0x100000 // MAP_FIXED_NOREPLACE
	}
	// The hint is an address outside the Go heap; reinterpreting the
	// integer's bits avoids a uintptr-to-pointer conversion.
	hint := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	p, err := unix.MmapPtr(-1, 0, hint, uintptr(size), prot, flags)
	if err != nil {
		return nil, err
	}
	b := unsafe.Slice((*byte)(p), size)
	if addrOf(b) != addr {
		// Old kernels ignore MAP_FIXED_NOREPLACE and treat the
		// address as a hint.
		_ = unix.MunmapPtr(p, uintptr(size))
		return nil, fmt.Errorf("address %#x is taken", addr)
	}
	return b, nil
}
