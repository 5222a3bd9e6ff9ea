//go:build linux

package sys

import (
	"errors"
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

// ErrClosed is returned for operations on a closed FD.
var ErrClosed = errors.New("use of a closed BPF object")

// Uint returns the descriptor for a bpf_attr field, or an invalid value
// (which the kernel refuses with EBADF) once closed.
func (fd *FD) Uint() uint32 {
	return uint32(fd.Int())
}

// value is the descriptor for a bpf_attr field, or ErrClosed: a closed
// descriptor's number may already name another object.
func (fd *FD) value() (uint32, error) {
	n := fd.Int()
	if n < 0 {
		return 0, ErrClosed
	}
	return uint32(n), nil
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
