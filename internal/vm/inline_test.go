package vm

import (
	"encoding/binary"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

// iterProg calls bpf_iter_num_next on the iterator at r1 (the ctx when
// onStack is false, else a stack copy of the ctx's 8 bytes) and returns
// r0 != 0 in bit 0 and the low 15 bits of the iterator's cur and end
// above it.
func iterProg(onStack bool) *object.ProgramSpec {
	var insns []asm.Instruction
	if onStack {
		insns = append(insns,
			ldx(bpfDW, 2, 1, 0), stx(bpfDW, 10, 2, -8), // copy the ctx's iterator
			mov64X(1, 10), alu64K(bpfAdd, 1, -8))
	} else {
		insns = append(insns, mov64X(6, 1), mov64X(7, 1))
	}
	insns = append(insns, mov64X(6, 1), kcall())
	insns = append(insns,
		mov64K(8, 0), jmpK(bpfJeq, 0, 0, 1), mov64K(8, 1), // r8 = r0 != 0
		ldx(bpfW, 2, 6, 0), alu64K(bpfAnd, 2, 0xffff), alu64K(bpfLsh, 2, 1), alu64X(bpfOr, 8, 2),
		ldx(bpfW, 2, 6, 4), alu64K(bpfAnd, 2, 0x7fff), alu64K(bpfLsh, 2, 17), alu64X(bpfOr, 8, 2),
		mov64X(0, 8), exit())
	ps := progSpec("p", insns)
	for i, in := range insns {
		if in.OpCode == 0x85 && in.Src == asm.PseudoKfuncCall {
			ps.Relocations[i] = object.Relocation{Kind: object.RelocKfunc, Extern: &object.ExternSpec{Name: "bpf_iter_num_next", Kind: object.ExternKfunc}}
		}
	}
	return ps
}

// TestInlineIterNumNext: the inline bpf_iter_num_next gives what the
// function gives (it runs for iterators off the stack and in profiled
// runs), at every iterator state.
func TestInlineIterNumNext(t *testing.T) {
	states := [][2]int32{{-1, 3}, {0, 3}, {1, 3}, {2, 3}, {3, 3}, {5, 3}, {0, 0}, {-2, -1}, {0x7ffe, 0x7fff}}
	for _, st := range states {
		ctx := make([]byte, 8)
		binary.LittleEndian.PutUint32(ctx, uint32(st[0]))
		binary.LittleEndian.PutUint32(ctx[4:], uint32(st[1]))
		var results []uint64
		for _, onStack := range []bool{true, false} {
			for _, prof := range []bool{false, true} {
				c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{iterProg(onStack)}})
				if onStack && !prof {
					if op := c.progs["p"].p.code[5].op; op != opIterNumNext {
						t.Fatalf("call decoded as %v", op)
					}
				}
				res, err := c.progs["p"].Run(engine.RunOptions{Context: ctx, Profile: prof, ContextOutSize: 8})
				if err != nil {
					t.Fatal(err)
				}
				got := uint64(res.Retval)
				if !onStack {
					// The ctx copy is the iterator: compare its bytes.
					got |= uint64(binary.LittleEndian.Uint64(res.ContextOut)) << 32
				}
				results = append(results, got)
			}
		}
		if results[0] != results[1] || results[2] != results[3] || uint32(results[0]) != uint32(results[2]) {
			t.Errorf("state %v: inline %#x, function %#x; off the stack %#x, %#x", st, results[0], results[1], results[2], results[3])
		}
	}
}
