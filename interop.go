package bpfarena

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// EBPF returns the program as a cilium/ebpf program, to attach it with
// cilium/ebpf/link. The result owns a duplicate of the descriptor and must
// be closed on its own. Only the kernel engine has one.
func (p *Program) EBPF() (*ebpf.Program, error) {
	var dup int
	err := p.use(func() error {
		fd := p.p.FD()
		if fd < 0 {
			return fmt.Errorf("program %q runs on the %s engine, which has no kernel program: %w",
				p.spec.Name, p.coll.engine, ErrNotSupported)
		}
		var err error
		if dup, err = dupFD(fd); err != nil {
			return fmt.Errorf("program %q: %w", p.spec.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ebpf.NewProgramFromFD(dup)
}

// EBPF returns the map as a cilium/ebpf map (for ring buffers, say, read
// with cilium/ebpf/ringbuf). The result owns a duplicate of the descriptor.
func (m *Map) EBPF() (*ebpf.Map, error) {
	var dup int
	err := m.coll.use("map", m.Spec.Name, func() error {
		fd := m.m.FD()
		if fd < 0 {
			return fmt.Errorf("map %q has no kernel descriptor on this engine: %w", m.Spec.Name, ErrNotSupported)
		}
		var err error
		if dup, err = dupFD(fd); err != nil {
			return fmt.Errorf("map %q: %w", m.Spec.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ebpf.NewMapFromFD(dup)
}
