package verifier

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

// TestLoops checks the loop replay's verdicts: the kernel's error for a
// loop that does not end, acceptance for every loop that does or that the
// replay cannot follow.
func TestLoops(t *testing.T) {
	const dw = 0x18 // BPF_DW
	mayGoto := func(off int16) ins { return ins{OpCode: asm.OpMayGoto, Src: asm.MayGoto, Offset: off} }
	bss := map[int]object.Relocation{0: valRel(testBSS, 0)}
	tests := []struct {
		name   string
		insns  []ins
		relocs map[int]object.Relocation
		errno  syscall.Errno
		msg    string // empty: accepted
	}{
		{name: "goto self", insns: []ins{movImm(asm.R0, 0), ja(-1)},
			errno: syscall.EINVAL, msg: "infinite loop detected at insn 1"},
		{name: "counter without exit", insns: []ins{movImm(asm.R0, 0), aluImm(asm.ALUAdd, asm.R0, 1), ja(-2)},
			errno: syscall.E2BIG, msg: "BPF program is too large. Processed 1000001 insn"},
		{name: "nested, both bounded", insns: []ins{
			movImm(asm.R0, 0), movImm(asm.R1, 0), // 0, 1
			movImm(asm.R2, 0),             // 2: outer head
			aluImm(asm.ALUAdd, asm.R0, 1), // 3: inner head
			aluImm(asm.ALUAdd, asm.R2, 1), // 4
			jneImm(asm.R2, 4, -3),         // 5: to 3
			aluImm(asm.ALUAdd, asm.R1, 1), // 6
			jneImm(asm.R1, 3, -6),         // 7: to 2
			exit(),
		}},
		{name: "endless inner loop in a bounded outer one", insns: []ins{
			movImm(asm.R0, 0), movImm(asm.R1, 0), // 0, 1
			movImm(asm.R2, 0),             // 2: outer head
			aluImm(asm.ALUAdd, asm.R2, 1), // 3: inner head
			aluImm(asm.ALUAnd, asm.R2, 7), // 4
			jneImm(asm.R2, 9, -3),         // 5: to 3, always
			aluImm(asm.ALUAdd, asm.R1, 1), // 6
			jneImm(asm.R1, 3, -6),         // 7: to 2
			exit(),
		}, errno: syscall.EINVAL, msg: "infinite loop detected at insn"},
		{name: "exit on an unbounded load, taken side", relocs: bss, insns: []ins{
			ldMapValue(asm.R6, 0), movImm(asm.R1, 0), // 0, 1
			ldx(dw, asm.R2, asm.R6, 0),                          // 2
			{OpCode: 0x3d, Dst: asm.R1, Src: asm.R2, Offset: 2}, // 3: if r1 >= r2 goto 6
			aluImm(asm.ALUAdd, asm.R1, 1),                       // 4
			ja(-4),                                              // 5: to 2
			movImm(asm.R0, 0), exit(),
		}, errno: syscall.E2BIG, msg: "The sequence of 8193 jumps is too complex."},
		{name: "unbounded number spilled and filled", relocs: bss, insns: []ins{
			ldMapValue(asm.R6, 0), movImm(asm.R1, 0), // 0, 1
			ldx(dw, asm.R2, asm.R6, 0),                          // 2
			stx(dw, asm.R10, -8, asm.R2),                        // 3
			ldx(dw, asm.R2, asm.R10, -8),                        // 4: loop head
			{OpCode: 0x3d, Dst: asm.R1, Src: asm.R2, Offset: 2}, // 5: if r1 >= r2 goto 8
			aluImm(asm.ALUAdd, asm.R1, 1),                       // 6
			ja(-4),                                              // 7: to 4
			movImm(asm.R0, 0), exit(),
		}}, // the kernel narrows the spilled copy too: not the replay's to decide
		{name: "may_goto", insns: []ins{movImm(asm.R0, 0), mayGoto(1), ja(-2), exit()}},
		{name: "helper call", insns: []ins{movImm(asm.R0, 0), helper(5), ja(-2)},
			errno: syscall.EINVAL, msg: "infinite loop detected at insn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(prog(tt.insns, tt.relocs), Env{})
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var ve *Error
			if !errors.As(err, &ve) || !strings.Contains(ve.Msg, tt.msg) || !errors.Is(err, tt.errno) {
				t.Fatalf("got %v, want %q (%v)", err, tt.msg, tt.errno)
			}
		})
	}
}
