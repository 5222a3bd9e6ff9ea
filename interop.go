package bpfarena

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// EBPF returns the program as a cilium/ebpf program, to attach it with
// cilium/ebpf/link. The result owns a duplicate of the descriptor and must
// be closed on its own. Only the kernel engine has one.
func (p *Program) EBPF() (*ebpf.Program, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	fd := p.p.FD()
	if fd < 0 {
		return nil, fmt.Errorf("program %q runs on the %s engine, which has no kernel program: %w",
			p.spec.Name, p.coll.engine, ErrNotSupported)
	}
	dup, err := dupFD(fd)
	if err != nil {
		return nil, fmt.Errorf("program %q: %w", p.spec.Name, err)
	}
	return ebpf.NewProgramFromFD(dup)
}

// EBPF returns the map as a cilium/ebpf map (for ring buffers, say, read
// with cilium/ebpf/ringbuf). The result owns a duplicate of the descriptor.
func (m *Map) EBPF() (*ebpf.Map, error) {
	fd := m.m.FD()
	if fd < 0 {
		return nil, fmt.Errorf("map %q has no kernel descriptor on this engine: %w", m.Spec.Name, ErrNotSupported)
	}
	dup, err := dupFD(fd)
	if err != nil {
		return nil, fmt.Errorf("map %q: %w", m.Spec.Name, err)
	}
	return ebpf.NewMapFromFD(dup)
}
