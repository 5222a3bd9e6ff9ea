//go:build linux

package sys

import (
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// FD is a kernel object file descriptor (map, program, BTF). Close releases
// it exactly once, however many times it is called, so cleanup paths can
// close unconditionally.
type FD struct {
	mu  sync.Mutex
	raw int
}

// NewFD takes ownership of raw.
func NewFD(raw int) *FD {
	return &FD{raw: raw}
}

// Int returns the descriptor number, or -1 once closed.
func (fd *FD) Int() int {
	if fd == nil {
		return -1
	}
	fd.mu.Lock()
	defer fd.mu.Unlock()
	return fd.raw
}

// Uint returns the descriptor for a bpf_attr field. It panics on a closed
// descriptor because passing -1 to the kernel as a u32 would name a
// different object's error path.
func (fd *FD) Uint() uint32 {
	n := fd.Int()
	if n < 0 {
		panic(fmt.Sprintf("sys: use of closed file descriptor %p", fd))
	}
	return uint32(n)
}

// Close closes the descriptor; later calls are no-ops.
func (fd *FD) Close() error {
	if fd == nil {
		return nil
	}
	fd.mu.Lock()
	defer fd.mu.Unlock()
	if fd.raw < 0 {
		return nil
	}
	raw := fd.raw
	fd.raw = -1
	return unix.Close(raw)
}

// keepAlive keeps the buffers referenced by an attr alive until the system
// call that reads them has returned.
func keepAlive(v ...any) {
	for _, x := range v {
		runtime.KeepAlive(x)
	}
}
