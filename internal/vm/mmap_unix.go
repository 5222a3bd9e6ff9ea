//go:build linux || darwin

package vm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapArena reserves size bytes of address space for an arena, readable and
// writable, backed lazily by anonymous memory. With want != 0 the mapping
// must be exactly there (map_extra); otherwise the address is picked, like
// the kernel picks it, so that the range does not straddle a 4 GiB
// boundary: the low 32 bits of every arena address then differ from the
// start's by exactly the offset, which the 32-bit arena addressing needs.
func mapArena(want, size uint64) ([]byte, error) {
	const prot = unix.PROT_READ | unix.PROT_WRITE
	const flags = unix.MAP_PRIVATE | unix.MAP_ANON | unix.MAP_NORESERVE
	if want != 0 {
		b, err := mmapAt(want, size, prot, flags)
		if err != nil {
			return nil, fmt.Errorf("map at map_extra %#x: %w", want, err)
		}
		return b, nil
	}
	// Reserve twice the size without access, keep an aligned part.
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(2*size), unix.PROT_NONE, flags)
	if err != nil {
		return nil, fmt.Errorf("reserve %d bytes: %w", 2*size, err)
	}
	res := unsafe.Slice((*byte)(p), 2*size)
	base := addrOf(res)
	start := base
	if start>>32 != (start+size-1)>>32 {
		start = (start + (1 << 32) - 1) &^ ((1 << 32) - 1)
	}
	// Give back what lies outside [start, start+size), then open the
	// rest for reading and writing.
	lead := start - base
	if lead > 0 {
		_ = unix.MunmapPtr(p, uintptr(lead))
	}
	if tail := res[lead+size:]; len(tail) > 0 {
		_ = unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(tail)), uintptr(len(tail)))
	}
	b := res[lead : lead+size : lead+size]
	if err := unix.Mprotect(b, prot); err != nil {
		unmapArena(b)
		return nil, err
	}
	return b, nil
}

// unmapArena releases a mapping made by mapArena.
func unmapArena(b []byte) {
	if len(b) > 0 {
		_ = unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)))
	}
}

// dropPages gives the pages' memory back to the OS; they read as zero
// afterwards. The mapping stays, so Go code holding a pointer into a freed
// page reads zeros instead of crashing.
func dropPages(b []byte) {
	if len(b) == 0 {
		return
	}
	if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
		clear(b)
	}
}

func addrOf(b []byte) uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}
