//go:build !linux && !darwin

package vm

import (
	"fmt"
	"unsafe"

	"github.com/bpfarena/bpfarena/internal/engine"
)

// mapArena needs mmap with a fixed address, which only Linux and macOS give
// the vm here; elsewhere objects with an arena cannot load.
func mapArena(want, size uint64) ([]byte, error) {
	return nil, fmt.Errorf("arena mapping: %w", engine.ErrNotSupported)
}

func unmapArena([]byte) {}

func dropPages(b []byte) { clear(b) }

func addrOf(b []byte) uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}
