package vm

import (
	"errors"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

// TestFuse: a register copy and the constant operation on the copy after
// it run as one instruction with the same results, a jump to the second
// half runs that half alone, and the budget still counts both halves.
func TestFuse(t *testing.T) {
	tests := []struct {
		name   string
		insns  []asm.Instruction
		budget uint64
		fused  []int // instructions expected to be fused
		want   uint64
		err    error
	}{
		{name: "lsh", insns: []asm.Instruction{mov64K(1, 5), mov64X(2, 1), alu64K(bpfLsh, 2, 3), mov64X(0, 2), exit()}, fused: []int{1}, want: 40},
		{name: "rsh", insns: []asm.Instruction{mov64K(1, -1), mov64X(0, 1), alu64K(bpfRsh, 0, 60), exit()}, fused: []int{1}, want: 15},
		{name: "and", insns: []asm.Instruction{mov64K(1, 0x1234), mov64X(0, 1), alu64K(bpfAnd, 0, 0xf0), exit()}, fused: []int{1}, want: 0x30},
		{name: "add", insns: []asm.Instruction{mov64K(1, 1), mov64X(0, 1), alu64K(bpfAdd, 0, -2), exit()}, fused: []int{1}, want: 1<<64 - 1},
		{name: "other register not fused", insns: []asm.Instruction{mov64K(1, 1), mov64X(0, 1), alu64K(bpfAdd, 1, 5), exit()}, want: 1},
		{name: "jump to the second half", insns: []asm.Instruction{
			mov64K(2, 7), mov64K(1, 1), jmpK(bpfJeq, 1, 1, 1),
			mov64X(2, 1), alu64K(bpfAdd, 2, 5), // 3: fused, entered at 4
			mov64X(0, 2), exit()}, fused: []int{3}, want: 12},
		{name: "falls into the pair", insns: []asm.Instruction{
			mov64K(2, 7), mov64K(1, 1), jmpK(bpfJeq, 1, 2, 1),
			mov64X(2, 1), alu64K(bpfAdd, 2, 5),
			mov64X(0, 2), exit()}, fused: []int{3}, want: 6},
		{name: "budget counts both halves", insns: []asm.Instruction{mov64X(2, 1), alu64K(bpfLsh, 2, 1), mov64K(0, 0), exit()}, budget: 4, fused: []int{0}, want: 0},
		{name: "budget one short", insns: []asm.Instruction{mov64X(2, 1), alu64K(bpfLsh, 2, 1), mov64K(0, 0), exit()}, budget: 3, fused: []int{0}, err: ErrBudget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{progSpec("p", tt.insns)}})
			if tt.budget != 0 {
				c.budget = tt.budget
			}
			code := c.progs["p"].p.code
			for _, i := range tt.fused {
				if !opTable[code[i].op].fused {
					t.Errorf("insn %d not fused: %v", i, code[i].op)
				}
			}
			got, _, err := run64(c, "p")
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("r0 = %#x, %v; want %#x", got, err, tt.want)
			}
		})
	}
}
