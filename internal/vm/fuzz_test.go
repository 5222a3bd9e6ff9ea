package vm

import (
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/vm/verifier"
	"github.com/bpfarena/bpfarena/object"
)

// FuzzInterpreter feeds random instruction bytes to the decoder and the
// interpreter with a small budget. Whatever the bytes, nothing may panic,
// hang or touch memory outside the run's regions. The first byte picks
// which memory instructions are treated as arena accesses, so both access
// paths see arbitrary addresses; the program goes through the real static
// pass too, and runs when the pass accepts it.
func FuzzInterpreter(f *testing.F) {
	seed := func(insns ...asm.Instruction) []byte {
		return asm.Instructions(insns).Encode([]byte{0x55})
	}
	f.Add(seed(mov64K(0, 1), exit()))
	f.Add(seed(ldImm64(1, 0x1000), st(bpfDW, 1, 0, 1), ldx(bpfDW, 0, 1, 0), exit()))
	f.Add(seed(mov64K(0, 0), mayGoto(2), alu64K(bpfAdd, 0, 1), ja(-3), exit()))
	f.Add(seed(mov64K(1, 3), raw(0x18, 2, 4, 0, 5), mov64K(3, 0), mov64K(4, 0), call(helperLoop), exit(), mov64K(0, 0), exit()))
	f.Add(seed(ldImm64(1, 0xffffffff), atomicOp(bpfDW, 1, 1, -8, atomicCmpXchg), castUser(0, 1), exit()))
	f.Add(seed(callSub(1), exit(), callSub(-1), exit()))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 {
			return
		}
		mask := data[0]
		insns, err := asm.Decode(data[1:])
		if err != nil || len(insns) == 0 || len(insns) > 512 {
			return
		}
		am := arenaSpec(4, 0, 0)
		ps := &object.ProgramSpec{Name: "fuzz", Type: object.Syscall, Instructions: insns,
			Relocations: map[int]object.Relocation{}, Sleepable: true}
		for i, in := range insns {
			if in.OpCode == 0x18 && (in.Src == asm.PseudoMapFD || in.Src == asm.PseudoMapValue) {
				ps.Relocations[i] = object.Relocation{Kind: object.RelocMapValue, Map: am, Offset: uint32(uint64(in.Constant) >> 32)}
				if in.Src == asm.PseudoMapFD {
					ps.Relocations[i] = object.Relocation{Kind: object.RelocMap, Map: am}
				}
			}
			if in.OpCode == 0x85 && in.Src == asm.PseudoKfuncCall {
				ps.Relocations[i] = object.Relocation{Kind: object.RelocKfunc,
					Extern: &object.ExternSpec{Name: kfuncNames[in.Constant&3], Kind: object.ExternKfunc}}
			}
		}
		spec := &object.Spec{Maps: []*object.MapSpec{am}, Programs: []*object.ProgramSpec{ps}}
		// Through the real static pass.
		if c, err := load(spec, engine.Options{InsnBudget: 1 << 14}); err == nil {
			c.progs["fuzz"].Run(engine.RunOptions{})
			c.Close()
		}
		// Straight to the interpreter, with arbitrary access kinds.
		set := map[int]bool{}
		n := 0
		for i, in := range insns {
			if c := in.OpCode & 7; c >= 1 && c <= 3 {
				if mask&(1<<(n%8)) != 0 {
					set[i] = true
				}
				n++
			}
		}
		testAccess.Store(ps, set)
		defer testAccess.Delete(ps)
		c, err := load(spec, engine.Options{InsnBudget: 1 << 14})
		if err != nil {
			return
		}
		defer c.Close()
		if a := c.arena; a != nil {
			a.allocPages(0, 1, 0)
		}
		c.progs["fuzz"].Run(engine.RunOptions{Context: make([]byte, 16)})
	})
}

var _ = verifier.AccessArena
