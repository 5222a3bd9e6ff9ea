// Package corerelo applies a program's CO-RE relocations: it resolves them
// against a target BTF with cilium/ebpf/btf and patches the instructions.
// Both engines use it, each with its own target.
package corerelo

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
	ciliumasm "github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// Apply resolves ps's CO-RE relocations against target and patches insns,
// which must be (a copy of) ps.Instructions. The fixups operate on
// cilium's instruction type, so each relocated instruction is converted
// just for the patch and back; nothing is encoded by cilium.
func Apply(spec *object.Spec, ps *object.ProgramSpec, insns asm.Instructions, target *btf.Spec) error {
	if len(ps.CORERelos) == 0 {
		return nil
	}
	if spec.BTF == nil {
		return fmt.Errorf("CO-RE relocations without object BTF")
	}
	if target == nil {
		return fmt.Errorf("CO-RE relocations without target BTF")
	}
	idx := make([]int, 0, len(ps.CORERelos))
	for i := range ps.CORERelos {
		if i < 0 || i >= len(insns) {
			return fmt.Errorf("CO-RE relocation at instruction %d of %d", i, len(insns))
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
		return fmt.Errorf("CO-RE: %w", err)
	}
	for k, i := range idx {
		in := &insns[i]
		ci := ciliumasm.Instruction{OpCode: ciliumasm.OpCode(in.OpCode), Dst: ciliumasm.Register(in.Dst),
			Src: ciliumasm.Register(in.Src), Offset: in.Offset, Constant: in.Constant}
		if err := fixups[k].Apply(&ci); err != nil {
			return fmt.Errorf("CO-RE at instruction %d: %w", i, err)
		}
		in.OpCode, in.Dst, in.Src = asm.OpCode(ci.OpCode), asm.Register(ci.Dst), asm.Register(ci.Src)
		in.Offset, in.Constant = ci.Offset, ci.Constant
	}
	return nil
}
