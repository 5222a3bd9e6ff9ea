package vm

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
	ciliumasm "github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

var (
	hostBTFOnce sync.Once
	hostBTF     *btf.Spec
)

// coreTarget is the BTF CO-RE relocations resolve against: the running
// kernel's when there is one (the answers then match the kernel engine),
// else the object's own types, so that relocations about the program's own
// types still resolve where no kernel BTF exists.
func coreTarget(spec *object.Spec) *btf.Spec {
	hostBTFOnce.Do(func() {
		if s, err := btf.LoadKernelSpec(); err == nil {
			hostBTF = s
		}
	})
	if hostBTF != nil {
		return hostBTF
	}
	return spec.BTF
}

// applyCORE returns ps's instructions with its CO-RE relocations applied;
// the spec itself is left alone.
func applyCORE(spec *object.Spec, ps *object.ProgramSpec) (asm.Instructions, error) {
	if len(ps.CORERelos) == 0 {
		return ps.Instructions, nil
	}
	if spec.BTF == nil {
		return nil, fmt.Errorf("CO-RE relocations without object BTF")
	}
	target := coreTarget(spec)
	if target == nil {
		return nil, fmt.Errorf("CO-RE relocations without target BTF")
	}
	idx := make([]int, 0, len(ps.CORERelos))
	for i := range ps.CORERelos {
		if i < 0 || i >= len(ps.Instructions) {
			return nil, fmt.Errorf("CO-RE relocation at instruction %d of %d", i, len(ps.Instructions))
		}
		idx = append(idx, i)
	}
	sort.Ints(idx)
	relos := make([]*btf.CORERelocation, len(idx))
	for k, i := range idx {
		relos[k] = ps.CORERelos[i]
	}
	fixups, err := btf.CORERelocate(relos, []*btf.Spec{target}, binary.LittleEndian, spec.BTF.TypeID)
	if err != nil {
		return nil, fmt.Errorf("CO-RE: %w", err)
	}
	insns := append(asm.Instructions(nil), ps.Instructions...)
	for k, i := range idx {
		in := &insns[i]
		ci := ciliumasm.Instruction{OpCode: ciliumasm.OpCode(in.OpCode), Dst: ciliumasm.Register(in.Dst),
			Src: ciliumasm.Register(in.Src), Offset: in.Offset, Constant: in.Constant}
		if err := fixups[k].Apply(&ci); err != nil {
			return nil, fmt.Errorf("CO-RE at instruction %d: %w", i, err)
		}
		in.OpCode, in.Dst, in.Src = asm.OpCode(ci.OpCode), asm.Register(ci.Dst), asm.Register(ci.Src)
		in.Offset, in.Constant = ci.Offset, ci.Constant
	}
	return insns, nil
}
