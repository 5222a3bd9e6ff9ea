// Package atomicmem copies to and from memory that BPF programs may be
// changing at the same time with atomic instructions.
//
// A program's atomic add on a global or an arena word is an atomic
// operation on that word; Go code reading or writing the same word with a
// plain copy is a data race (torn values, and a report under -race). The
// copies here use one atomic access per aligned 8-byte or 4-byte word that
// lies wholly inside the range, and plain byte accesses for the rest, which
// no BPF atomic can cover: BPF atomics are 4 or 8 bytes wide and aligned.
package atomicmem

import (
	"sync/atomic"
	"unsafe"
)

// Load copies src into dst; both have the same length (the shorter one
// bounds the copy). src is the shared memory.
func Load(dst, src []byte) {
	n := min(len(dst), len(src))
	for i := 0; i < n; {
		p := unsafe.Pointer(&src[i])
		switch a := uintptr(p); {
		case a%8 == 0 && n-i >= 8:
			v := atomic.LoadUint64((*uint64)(p))
			*(*[8]byte)(dst[i : i+8]) = *(*[8]byte)(unsafe.Pointer(&v))
			i += 8
		case a%4 == 0 && n-i >= 4:
			v := atomic.LoadUint32((*uint32)(p))
			*(*[4]byte)(dst[i : i+4]) = *(*[4]byte)(unsafe.Pointer(&v))
			i += 4
		default:
			dst[i] = src[i]
			i++
		}
	}
}

// Store copies src into dst, the shared memory, with the same word rule.
func Store(dst, src []byte) {
	n := min(len(dst), len(src))
	for i := 0; i < n; {
		p := unsafe.Pointer(&dst[i])
		switch a := uintptr(p); {
		case a%8 == 0 && n-i >= 8:
			atomic.StoreUint64((*uint64)(p), *(*uint64)(unsafe.Pointer(&src[i])))
			i += 8
		case a%4 == 0 && n-i >= 4:
			atomic.StoreUint32((*uint32)(p), *(*uint32)(unsafe.Pointer(&src[i])))
			i += 4
		default:
			dst[i] = src[i]
			i++
		}
	}
}
