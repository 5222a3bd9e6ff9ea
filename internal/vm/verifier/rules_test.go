package verifier

import (
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

var (
	btfInt  = &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	btfU64  = &btf.Int{Name: "u64", Size: 8}
	btfVoid = &btf.Void{}
)

func btfFunc(name string, ret btf.Type, params ...btf.Type) *btf.Func {
	fp := &btf.FuncProto{Return: ret}
	for i, p := range params {
		fp.Params = append(fp.Params, btf.FuncParam{Name: string(rune('a' + i)), Type: p})
	}
	return &btf.Func{Name: name, Type: fp, Linkage: btf.GlobalFunc}
}

func TestGeneralRules(t *testing.T) {
	strict := &Env{ArenaFixed: true, StrictStack: true}
	runVerifyTests(t, []verifyTest{
		{
			name: "unreachable insn",
			prog: prog([]ins{movImm(asm.R0, 0), exit(), movImm(asm.R0, 1), exit()}, nil),
			msg:  "unreachable insn 2", errno: syscall.EINVAL, insn: 2,
		},
		{
			name: "jump out of range",
			prog: prog([]ins{movImm(asm.R0, 0), ja(5), exit()}, nil),
			msg:  "jump out of range from insn 1 to 7", errno: syscall.EINVAL, insn: 1,
		},
		{
			name: "jump backwards out of range",
			prog: prog([]ins{movImm(asm.R0, 0), jeqImm(asm.R0, 0, -3), exit()}, nil),
			msg:  "jump out of range from insn 1 to -1", errno: syscall.EINVAL, insn: 1,
		},
		{
			name: "jump into the middle of ld_imm64",
			prog: prog([]ins{movImm(asm.R0, 0), jeqImm(asm.R0, 0, 1), ldImm(asm.R1, 1), exit()}, nil),
			msg:  "jump into the middle of ldimm64 insn 2", errno: syscall.EINVAL, insn: 2,
		},
		{
			name: "fall off the end",
			prog: prog([]ins{movImm(asm.R0, 0)}, nil),
			msg:  "last insn is not an exit or jmp", errno: syscall.EINVAL, insn: 0,
		},
		{
			name: "back-edges are allowed",
			prog: prog([]ins{
				movImm(asm.R0, 0),
				aluImm(asm.ALUAdd, asm.R0, 1),
				jgtImm(asm.R0, 100, 1),
				ja(-3),
				exit(),
			}, nil),
		},
		{
			name: "loop with unknown bound terminates",
			prog: prog([]ins{
				ldx(w, asm.R2, asm.R1, 0),
				movImm(asm.R0, 0),
				aluImm(asm.ALUAdd, asm.R0, 1),
				aluImm(asm.ALUAdd, asm.R2, -1),
				jneImm(asm.R2, 0, -3),
				exit(),
			}, nil),
		},
		{
			name: "uninitialised register",
			prog: prog([]ins{mov(asm.R0, asm.R3), exit()}, nil),
			msg:  "R3 !read_ok", errno: syscall.EACCES, insn: 0,
		},
		{
			name: "r0 not set at exit",
			prog: prog([]ins{exit()}, nil),
			msg:  "R0 !read_ok", errno: syscall.EACCES, insn: 0,
		},
		{
			name: "frame pointer is read only",
			prog: prog([]ins{movImm(asm.R10, 0), exit()}, nil),
			msg:  "frame pointer is read only", errno: syscall.EACCES, insn: 0,
		},
		{
			name: "dereferencing a scalar",
			prog: prog([]ins{movImm(asm.R1, 4096), ldx(dw, asm.R0, asm.R1, 0), exit()}, nil),
			msg:  "R1 invalid mem access 'scalar'", errno: syscall.EACCES, insn: 1,
		},
		{
			name: "stack write out of bounds",
			prog: prog([]ins{st(dw, asm.R10, -520, 0), movImm(asm.R0, 0), exit()}, nil),
			msg:  "invalid write to stack R10 off=-520 size=8", errno: syscall.EACCES, insn: 0,
		},
		{
			name: "stack write above the frame",
			prog: prog([]ins{mov(asm.R1, asm.R10), stx(dw, asm.R1, 0, asm.R1), movImm(asm.R0, 0), exit()}, nil),
			msg:  "invalid write to stack R1 off=0 size=8", errno: syscall.EACCES, insn: 1,
		},
		{
			name: "stack read out of bounds",
			prog: prog([]ins{ldx(w, asm.R0, asm.R10, 4), exit()}, nil),
			msg:  "invalid read from stack R10 off=4 size=4", errno: syscall.EACCES, insn: 0,
		},
		{
			name: "uninitialised stack read, unprivileged",
			prog: prog([]ins{st(w, asm.R10, -8, 0), ldx(dw, asm.R0, asm.R10, -8), exit()}, nil),
			env:  strict,
			msg:  "invalid read from stack off -8+4 size 8", errno: syscall.EACCES, insn: 1,
		},
		{
			name: "uninitialised stack read, privileged",
			prog: prog([]ins{st(w, asm.R10, -8, 0), ldx(dw, asm.R0, asm.R10, -8), exit()}, nil),
		},
		{
			name: "misaligned stack access",
			prog: prog([]ins{st(w, asm.R10, -6, 0), movImm(asm.R0, 0), exit()}, nil),
			msg:  "misaligned stack access off 0+0+-6 size 4", errno: syscall.EACCES, insn: 0,
		},
		{
			name: "pointer arithmetic on stack followed",
			prog: prog([]ins{
				mov(asm.R1, asm.R10),
				aluImm(asm.ALUAdd, asm.R1, -16),
				st(dw, asm.R1, 8, 5),
				ldx(dw, asm.R0, asm.R10, -8),
				exit(),
			}, nil),
			env: strict,
		},
		{
			name:   "map value in bounds",
			prog:   prog([]ins{ldMapValue(asm.R1, 8), ldx(dw, asm.R0, asm.R1, 0), exit()}, rels{0: valRel(testBSS, 8)}),
			access: map[int]Access{1: AccessOther},
		},
		{
			name: "map value out of bounds",
			prog: prog([]ins{ldMapValue(asm.R1, 8), ldx(dw, asm.R0, asm.R1, 4), exit()}, rels{0: valRel(testBSS, 8)}),
			msg:  "invalid access to map value, value_size=16 off=12 size=8", errno: syscall.EACCES, insn: 2,
		},
		{
			name: "map value negative offset",
			prog: prog([]ins{ldMapValue(asm.R1, 0), st(b, asm.R1, -1, 0), movImm(asm.R0, 0), exit()}, rels{0: valRel(testBSS, 0)}),
			msg:  "invalid access to map value, value_size=16 off=-1 size=1", errno: syscall.EACCES, insn: 2,
		},
		{
			name: "write into read-only data",
			prog: prog([]ins{ldMapValue(asm.R1, 0), st(w, asm.R1, 0, 0), movImm(asm.R0, 0), exit()}, rels{0: valRel(testRodata, 0)}),
			msg:  "write into map forbidden, value_size=8 off=0 size=4", errno: syscall.EACCES, insn: 2,
		},
		{
			name: "read-only data is known: dead branch not checked",
			prog: prog([]ins{
				ldMapValue(asm.R1, 0),
				ldx(w, asm.R2, asm.R1, 0), // 1
				jneImm(asm.R2, 0, 1),
				exit(), // r0 unset: dead
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: valRel(testRodata, 0)}),
		},
		{
			name: "map value offset past the value",
			prog: prog([]ins{ldMapValue(asm.R1, 16), movImm(asm.R0, 0), exit()}, rels{0: valRel(testBSS, 16)}),
			msg:  "invalid access to map value pointer, value_size=16 off=16", errno: syscall.EINVAL, insn: 0,
		},
		{
			name: "unknown helper",
			prog: prog([]ins{helper(999), exit()}, nil),
			msg:  "invalid func unknown#999", errno: syscall.EINVAL, insn: 0,
		},
		{
			name: "helper the vm does not provide",
			prog: prog([]ins{helper(25), exit()}, nil),
			msg:  "program of this type cannot use helper bpf_perf_event_output#25", errno: syscall.EINVAL, insn: 0,
		},
		{
			name: "helper clobbers r1-r5",
			prog: prog([]ins{movImm(asm.R1, 1), helper(5), mov(asm.R0, asm.R1), exit()}, nil),
			msg:  "R1 !read_ok", errno: syscall.EACCES, insn: 2,
		},
		{
			name: "lookup result needs a null check",
			prog: prog([]ins{
				st(w, asm.R10, -4, 0),
				ldMap(asm.R1),
				mov(asm.R2, asm.R10),
				aluImm(asm.ALUAdd, asm.R2, -4),
				helper(1),
				ldx(dw, asm.R0, asm.R0, 0),
				exit(),
			}, rels{1: mapRel(testHash)}),
			msg: "R0 invalid mem access 'map_value_or_null'", errno: syscall.EACCES, insn: 6,
		},
		{
			name: "lookup result after a null check",
			prog: prog([]ins{
				st(w, asm.R10, -4, 0),
				ldMap(asm.R1),
				mov(asm.R2, asm.R10),
				aluImm(asm.ALUAdd, asm.R2, -4),
				helper(1),
				mov(asm.R6, asm.R0),        // 5 a copy, checked through r0
				jeqImm(asm.R0, 0, 2),       // 6
				ldx(dw, asm.R0, asm.R6, 0), // 7
				exit(),
				movImm(asm.R0, 0),
				exit(),
			}, rels{1: mapRel(testHash)}),
			access: map[int]Access{7: AccessOther},
		},
		{
			name: "lookup result out of bounds",
			prog: prog([]ins{
				st(w, asm.R10, -4, 0),
				ldMap(asm.R1),
				mov(asm.R2, asm.R10),
				aluImm(asm.ALUAdd, asm.R2, -4),
				helper(1),
				jeqImm(asm.R0, 0, 2),
				ldx(dw, asm.R0, asm.R0, 4),
				exit(),
				movImm(asm.R0, 0),
				exit(),
			}, rels{1: mapRel(testHash)}),
			msg: "invalid access to map value, value_size=8 off=4 size=8", errno: syscall.EACCES, insn: 7,
		},
		{
			name: "lookup key past the frame",
			prog: prog([]ins{ldMap(asm.R1), mov(asm.R2, asm.R10), aluImm(asm.ALUAdd, asm.R2, -2), helper(1), movImm(asm.R0, 0), exit()}, rels{0: mapRel(testHash)}),
			msg:  "invalid read from stack R2 off=-2 size=4", errno: syscall.EINVAL, insn: 4,
		},
		{
			name: "lookup key below the frame",
			prog: prog([]ins{ldMap(asm.R1), mov(asm.R2, asm.R10), aluImm(asm.ALUAdd, asm.R2, -514), helper(1), movImm(asm.R0, 0), exit()}, rels{0: mapRel(testHash)}),
			msg:  "invalid read from stack R2 off=-514 size=4", errno: syscall.EACCES, insn: 4,
		},
		{
			name: "lookup in the arena",
			prog: prog([]ins{ldMap(asm.R1), mov(asm.R2, asm.R10), aluImm(asm.ALUAdd, asm.R2, -8), helper(1), movImm(asm.R0, 0), exit()}, rels{0: mapRel(testArena)}),
			msg:  "invalid zero-sized read", errno: syscall.EACCES, insn: 4,
		},
		{
			name: "update value past a map value",
			prog: prog([]ins{
				st(w, asm.R10, -4, 0),
				ldMap(asm.R1),
				mov(asm.R2, asm.R10), aluImm(asm.ALUAdd, asm.R2, -4),
				ldMapValue(asm.R3, 12),
				movImm(asm.R4, 0),
				helper(2),
				exit(),
			}, rels{1: mapRel(testHash), 4: valRel(testBSS, 12)}),
			msg: "invalid access to map value, value_size=16 off=12 size=8", errno: syscall.EACCES, insn: 8,
		},
		{
			name: "probe_read fills the stack",
			prog: prog([]ins{
				mov(asm.R1, asm.R10), aluImm(asm.ALUAdd, asm.R1, -16),
				movImm(asm.R2, 16),
				movImm(asm.R3, 0),
				helper(113),
				ldx(dw, asm.R0, asm.R10, -8),
				exit(),
			}, nil),
			env: strict,
		},
		{
			name: "lookup with a scalar map",
			prog: prog([]ins{movImm(asm.R1, 0), movImm(asm.R2, 0), helper(1), exit()}, nil),
			msg:  "R1 type=scalar expected=map_ptr", errno: syscall.EACCES, insn: 2,
		},
		{
			name: "32-bit pointer arithmetic",
			prog: prog([]ins{mov(asm.R1, asm.R10), alu32Imm(asm.ALUAdd, asm.R1, 8), movImm(asm.R0, 0), exit()}, nil),
			msg:  "R1 32-bit pointer arithmetic prohibited", errno: syscall.EACCES, insn: 1,
		},
		{
			name: "bitwise operator on a pointer",
			prog: prog([]ins{mov(asm.R1, asm.R10), aluImm(asm.ALUAnd, asm.R1, 8), movImm(asm.R0, 0), exit()}, nil),
			msg:  "R1 bitwise operator &= on pointer prohibited", errno: syscall.EACCES, insn: 1,
		},
		{
			name: "division by zero constant",
			prog: prog([]ins{movImm(asm.R0, 1), aluImm(asm.ALUDiv, asm.R0, 0), exit()}, nil),
			msg:  "div by zero", errno: syscall.EINVAL, insn: 1,
		},
		{
			name: "modified ctx pointer",
			prog: prog([]ins{aluImm(asm.ALUAdd, asm.R1, 8), ldx(w, asm.R0, asm.R1, 0), exit()}, nil),
			msg:  "dereference of modified ctx ptr R1 off=8 disallowed", errno: syscall.EACCES, insn: 1,
		},
		{
			name:   "ctx read",
			prog:   prog([]ins{ldx(w, asm.R0, asm.R1, 4), exit()}, nil),
			access: map[int]Access{0: AccessOther},
		},
		{
			name: "xdp packet pointers",
			prog: func() *object.ProgramSpec {
				p := prog([]ins{
					ldx(w, asm.R2, asm.R1, 0), // data
					ldx(w, asm.R3, asm.R1, 4), // data_end
					mov(asm.R4, asm.R2),
					aluImm(asm.ALUAdd, asm.R4, 14),
					{OpCode: 0x2d, Dst: asm.R4, Src: asm.R3, Offset: 2}, // if r4 > r3 goto +2
					ldx(b, asm.R0, asm.R2, 12),
					exit(),
					movImm(asm.R0, 2),
					exit(),
				}, nil)
				p.Type = object.XDP
				return p
			}(),
			access: map[int]Access{5: AccessOther},
		},
		{
			name: "syscall ctx misaligned",
			prog: prog([]ins{ldx(w, asm.R0, asm.R1, 2), exit()}, nil),
			msg:  "invalid bpf_context access off=2 size=4", errno: syscall.EACCES, insn: 0,
		},
		{
			name: "xdp ctx is read only",
			prog: ofType(object.XDP, prog([]ins{st(w, asm.R1, 12, 1), movImm(asm.R0, 0), exit()}, nil)),
			msg:  "invalid bpf_context access off=12 size=4", errno: syscall.EACCES, insn: 0,
		},
		{
			name: "xdp ctx narrow read",
			prog: ofType(object.XDP, prog([]ins{ldx(h, asm.R0, asm.R1, 12), exit()}, nil)),
			msg:  "invalid bpf_context access off=12 size=2", errno: syscall.EACCES, insn: 0,
		},
		{
			name: "xdp egress ifindex outside a devmap",
			prog: ofType(object.XDP, prog([]ins{ldx(w, asm.R0, asm.R1, 20), exit()}, nil)),
			msg:  "invalid bpf_context access off=20 size=4", errno: syscall.EACCES, insn: 0,
		},
		{
			name:   "xdp ingress ifindex",
			prog:   ofType(object.XDP, prog([]ins{ldx(w, asm.R0, asm.R1, 12), exit()}, nil)),
			access: map[int]Access{0: AccessOther},
		},
		{
			name: "packet end is not memory",
			prog: func() *object.ProgramSpec {
				p := prog([]ins{ldx(w, asm.R3, asm.R1, 4), ldx(b, asm.R0, asm.R3, 0), exit()}, nil)
				p.Type = object.XDP
				return p
			}(),
			msg: "R3 invalid mem access 'pkt_end'", errno: syscall.EACCES, insn: 1,
		},
		{
			name: "variable set and tested under the same condition",
			prog: prog([]ins{
				ldx(w, asm.R6, asm.R1, 0),
				jeqImm(asm.R6, 0, 1),
				movImm(asm.R7, 5),
				jeqImm(asm.R6, 0, 1),
				mov(asm.R0, asm.R7),
				movImm(asm.R0, 0),
				exit(),
			}, nil),
		},
	})
}

func TestCalls(t *testing.T) {
	// main: r1 = arena pointer; call static f; f stores through r1.
	static := prog(withArena(
		toArena(asm.R1, asm.R6), // 1
		pcall(2),                // 2 -> slot 3+2 = 5 (insn 4)
		movImm(asm.R0, 0),       // 3
		exit(),                  // 4? no: see below
	), arenaRels())
	// indices: 0 ld(2 slots) 1 cast(slot2) 2 call(slot3) 3 mov(slot4) 4 exit(slot5)
	static.Instructions = append(static.Instructions[:4], exit(),
		st(dw, asm.R1, 0, 1), // 5 (slot 6)
		movImm(asm.R0, 0),
		exit(),
	)
	static.Instructions[2] = pcall(2) // slot 3 + 1 + 2 = 6

	gfn := btfFunc("g", btfInt, &btf.Pointer{Target: btfU64}, btfU64)
	global := func(arg ins) *object.ProgramSpec {
		p := prog(withArena(
			arg,                  // 1: r1
			movImm(asm.R2, 7),    // 2
			pcall(2),             // 3 (slot 4) -> slot 7 = insn 6
			movImm(asm.R0, 0),    // 4
			exit(),               // 5
			st(dw, asm.R1, 0, 1), // 6 g: *r1 = 1
			mov(asm.R0, asm.R2),  // 7
			exit(),               // 8
		), arenaRels())
		p.Funcs = []object.Func{
			{Name: "test", Index: 0},
			{Name: "g", Index: 6, Slot: 7, Type: gfn, ArenaArgs: []bool{true, false}, Global: true},
		}
		return p
	}
	loop := prog([]ins{
		movImm(asm.R1, 10),    // 0
		ldFunc(asm.R2, 6),     // 1 (slots 1-2) -> slot 1+1+6 = 8 (insn 7)
		mov(asm.R3, asm.R10),  // 2 (slot 3)
		movImm(asm.R4, 0),     // 3
		helper(181),           // 4
		movImm(asm.R0, 0),     // 5
		exit(),                // 6 (slot 7)
		st(dw, asm.R2, -8, 1), // 7 cb: *(ctx - 8) = 1 (caller's stack)
		movImm(asm.R0, 0),     // 8
		exit(),                // 9
	}, nil)
	runVerifyTests(t, []verifyTest{
		{name: "static function gets the caller's arena pointer", prog: static, access: map[int]Access{5: AccessArena}},
		{name: "global function arena argument", prog: global(toArena(asm.R1, asm.R6)), access: map[int]Access{6: AccessArena}},
		{name: "global function arena argument given a scalar", prog: global(movImm(asm.R1, 0)), access: map[int]Access{6: AccessArena}},
		{
			name: "global function arena argument given the stack",
			prog: global(mov(asm.R1, asm.R10)),
			msg:  "R1 is not a pointer to arena or scalar.", errno: syscall.EINVAL, insn: 4,
		},
		{
			name: "global function scalar argument given a pointer",
			prog: func() *object.ProgramSpec {
				p := global(toArena(asm.R1, asm.R6))
				p.Instructions[2] = mov(asm.R2, asm.R10)
				return p
			}(),
			msg: "R2 is not a scalar", errno: syscall.EINVAL, insn: 4,
		},
		{
			name: "void global function",
			prog: func() *object.ProgramSpec {
				p := global(toArena(asm.R1, asm.R6))
				p.Funcs[1].Type = btfFunc("g", btfVoid, &btf.Pointer{Target: btfU64}, btfU64)
				return p
			}(),
			msg: "Global function g() doesn't return scalar. Only those are supported.", errno: syscall.EINVAL, insn: 4,
		},
		{
			name: "global function memory argument given a number",
			prog: func() *object.ProgramSpec {
				p := global(movImm(asm.R1, 8))
				p.Funcs[1].ArenaArgs = nil
				return p
			}(),
			msg: "R1 type=scalar expected=fp", errno: syscall.EINVAL, insn: 4,
		},
		{
			name: "global function memory argument given NULL",
			prog: func() *object.ProgramSpec {
				p := global(movImm(asm.R1, 0))
				p.Funcs[1].ArenaArgs = nil
				p.Instructions[6] = movImm(asm.R0, 0) // g does not dereference it
				return p
			}(),
		},
		{
			name: "global function memory argument must be checked for NULL",
			prog: func() *object.ProgramSpec {
				p := prog(withArena(
					st(dw, asm.R10, -8, 0),         // 1 (slot 2)
					mov(asm.R1, asm.R10),           // 2
					aluImm(asm.ALUAdd, asm.R1, -8), // 3
					movImm(asm.R2, 7),              // 4
					pcall(2),                       // 5 (slot 6) -> slot 9
					movImm(asm.R0, 0),              // 6
					exit(),                         // 7
					st(dw, asm.R1, 0, 1),           // 8 (slot 9) g
					mov(asm.R0, asm.R2),            // 9
					exit(),                         // 10
				), arenaRels())
				p.Funcs = []object.Func{{Name: "test", Index: 0}, {Name: "g", Index: 8, Slot: 9, Type: gfn, Global: true}}
				return p
			}(),
			msg: "R1 invalid mem access 'mem_or_null'", errno: syscall.EACCES, insn: 9,
		},
		{name: "bpf_loop callback writes the caller's stack", prog: loop, access: map[int]Access{7: AccessOther}},
		{
			name: "bpf_loop callback returns 2",
			prog: func() *object.ProgramSpec {
				p := prog(append([]ins(nil), loop.Instructions...), nil)
				p.Instructions[8] = movImm(asm.R0, 2)
				return p
			}(),
			msg: "At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]", errno: syscall.EINVAL, insn: 10,
		},
		{
			name: "combined stack too large",
			prog: prog([]ins{
				st(dw, asm.R10, -320, 0), // 0
				pcall(2),                 // 1 -> 4
				movImm(asm.R0, 0),        // 2
				exit(),                   // 3
				st(dw, asm.R10, -320, 0), // 4
				movImm(asm.R0, 0),
				exit(),
			}, nil),
			msg: "combined stack size of 2 calls is 640. Too large", errno: syscall.EACCES, insn: -1,
		},
		{
			name: "combined stack within bounds",
			prog: prog([]ins{
				st(dw, asm.R10, -256, 0),
				pcall(2),
				movImm(asm.R0, 0),
				exit(),
				st(dw, asm.R10, -256, 0),
				movImm(asm.R0, 0),
				exit(),
			}, nil),
		},
		{
			name: "recursion is bounded",
			prog: prog([]ins{pcall(-1), exit()}, nil),
			msg:  "the call stack of 9 frames is too deep !", errno: syscall.E2BIG, insn: 0,
		},
	})
}

func TestCriticalSections(t *testing.T) {
	kf := func(names ...string) rels {
		r := rels{}
		for i, n := range names {
			if n != "" {
				r[i] = kfRel(n)
			}
		}
		return r
	}
	allocIn := func(open, close string) *object.ProgramSpec {
		return prog([]ins{
			kcall(),           // 0 open
			ldMap(asm.R1),     // 1
			movImm(asm.R2, 0), // 2
			movImm(asm.R3, 1), // 3
			movImm(asm.R4, -1),
			movImm(asm.R5, 0),
			kcall(), // 6 (slot 7)
			kcall(), // 7 close
			movImm(asm.R0, 0),
			exit(),
		}, rels{0: kfRel(open), 1: mapRel(testArena), 6: kfRel("bpf_arena_alloc_pages"), 7: kfRel(close)})
	}
	runVerifyTests(t, []verifyTest{
		{
			name: "preempt pair",
			prog: prog([]ins{kcall(), kcall(), movImm(asm.R0, 0), exit()}, kf("bpf_preempt_disable", "bpf_preempt_enable")),
		},
		{
			name: "exit with preemption disabled",
			prog: prog([]ins{kcall(), movImm(asm.R0, 0), exit()}, kf("bpf_preempt_disable")),
			msg:  "BPF_EXIT instruction in main prog cannot be used inside bpf_preempt_disable-ed region", errno: syscall.EINVAL, insn: 2,
		},
		{
			name: "exit in an rcu read section",
			prog: prog([]ins{kcall(), movImm(asm.R0, 0), exit()}, kf("bpf_rcu_read_lock")),
			msg:  "BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region", errno: syscall.EINVAL, insn: 2,
		},
		{
			name: "exit with interrupts disabled",
			prog: prog([]ins{mov(asm.R1, asm.R10), aluImm(asm.ALUAdd, asm.R1, -8), kcall(), movImm(asm.R0, 0), exit()}, rels{2: kfRel("bpf_local_irq_save")}),
			msg:  "BPF_EXIT instruction in main prog cannot be used inside bpf_local_irq_save-ed region", errno: syscall.EINVAL, insn: 4,
		},
		{
			name: "unmatched preempt enable",
			prog: prog([]ins{kcall(), movImm(asm.R0, 0), exit()}, kf("bpf_preempt_enable")),
			msg:  "unmatched attempt to enable preemption (kernel function bpf_preempt_enable)", errno: syscall.EINVAL, insn: 0,
		},
		{
			name: "nested rcu read lock",
			prog: prog([]ins{kcall(), kcall(), movImm(asm.R0, 0), exit()}, kf("bpf_rcu_read_lock", "bpf_rcu_read_lock")),
			msg:  "nested rcu read lock (kernel function bpf_rcu_read_lock)", errno: syscall.EINVAL, insn: 1,
		},
		{
			name: "unmatched rcu unlock",
			prog: prog([]ins{kcall(), movImm(asm.R0, 0), exit()}, kf("bpf_rcu_read_unlock")),
			msg:  "unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)", errno: syscall.EINVAL, insn: 0,
		},
		{
			name: "sleepable kfunc with preemption disabled",
			prog: allocIn("bpf_preempt_disable", "bpf_preempt_enable"),
			msg:  "kernel func bpf_arena_alloc_pages is sleepable within non-preemptible region", errno: syscall.EACCES, insn: 7,
		},
		{
			name: "sleepable kfunc in an rcu read section",
			prog: allocIn("bpf_rcu_read_lock", "bpf_rcu_read_unlock"),
			msg:  "kernel func bpf_arena_alloc_pages is sleepable within rcu_read_lock region", errno: syscall.EACCES, insn: 7,
		},
	})
}

func TestSpinLock(t *testing.T) {
	// r6 = &value (map value with the lock at offset 0) after a lookup.
	prologue := []ins{
		st(w, asm.R10, -4, 0),          // 0
		ldMap(asm.R1),                  // 1
		mov(asm.R2, asm.R10),           // 2 (slot 3)
		aluImm(asm.ALUAdd, asm.R2, -4), // 3
		helper(1),                      // 4
		jneImm(asm.R0, 0, 2),           // 5 (slot 6)
		movImm(asm.R0, 0),              // 6
		exit(),                         // 7
		mov(asm.R6, asm.R0),            // 8 (slot 9)
		mov(asm.R1, asm.R6),            // 9
		helper(93),                     // 10 (slot 11)
	}
	lock := func(body ...ins) *object.ProgramSpec {
		return ofType(object.SchedCLS, prog(append(append([]ins(nil), prologue...), body...), rels{1: mapRel(testHash)}))
	}
	runVerifyTests(t, []verifyTest{
		{name: "lock and unlock", prog: lock(st(dw, asm.R6, 0, 1), mov(asm.R1, asm.R6), helper(94), movImm(asm.R0, 0), exit())},
		{
			name: "exit holding the lock",
			prog: lock(movImm(asm.R0, 0), exit()),
			msg:  "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region", errno: syscall.EINVAL, insn: 13,
		},
		{
			name: "helper call holding the lock",
			prog: lock(helper(5), mov(asm.R1, asm.R6), helper(94), movImm(asm.R0, 0), exit()),
			msg:  "function calls are not allowed while holding a lock", errno: syscall.EINVAL, insn: 12,
		},
		{
			name: "unlock without lock",
			prog: ofType(object.SchedCLS, prog(append(append([]ins(nil), prologue[:10]...), helper(94), movImm(asm.R0, 0), exit()), rels{1: mapRel(testHash)})),
			msg:  "bpf_spin_unlock without taking a lock", errno: syscall.EINVAL, insn: 11,
		},
	})
}

func TestPacketBounds(t *testing.T) {
	xdp := func(cmp ins, access ins) *object.ProgramSpec {
		return ofType(object.XDP, prog([]ins{
			ldx(w, asm.R2, asm.R1, 0), // data
			ldx(w, asm.R3, asm.R1, 4), // data_end
			mov(asm.R4, asm.R2),
			aluImm(asm.ALUAdd, asm.R4, 14),
			movImm(asm.R0, 1),
			cmp, // 5: skip the access when out of bounds
			access,
			exit(),
		}, nil))
	}
	gt := ins{OpCode: 0x2d, Dst: asm.R4, Src: asm.R3, Offset: 1} // if r4 > r3 goto +1
	le := ins{OpCode: 0xbd, Dst: asm.R3, Src: asm.R4, Offset: 1} // if r3 <= r4 goto +1 (end <= p: p >= end)
	runVerifyTests(t, []verifyTest{
		{name: "checked", prog: xdp(gt, ldx(b, asm.R0, asm.R2, 13)), access: map[int]Access{6: AccessOther}},
		{
			name: "one byte past the check",
			prog: xdp(gt, ldx(h, asm.R0, asm.R2, 13)),
			msg:  "invalid access to packet, off=13 size=2, R2(id=0,off=13,r=14)", errno: syscall.EACCES, insn: 6,
		},
		{name: "checked with the end first", prog: xdp(le, ldx(h, asm.R0, asm.R2, 13))},
		{
			name: "unchecked",
			prog: xdp(movImm(asm.R5, 0), ldx(b, asm.R0, asm.R2, 0)),
			msg:  "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)", errno: syscall.EACCES, insn: 6,
		},
	})
}

func TestUnboundedOffsets(t *testing.T) {
	index := func(body ...ins) *object.ProgramSpec {
		return prog(append([]ins{
			ldMapValue(asm.R6, 0),      // 0 (slots 0-1)
			ldx(dw, asm.R1, asm.R6, 0), // 1 (slot 2): any 64-bit number
		}, body...), rels{0: valRel(testBSS, 0)})
	}
	runVerifyTests(t, []verifyTest{
		{
			name: "unbounded index",
			prog: index(aluReg(asm.ALUAdd, asm.R6, asm.R1), ldx(b, asm.R0, asm.R6, 0), exit()),
			msg:  "math between map_value pointer and register with unbounded min value is not allowed", errno: syscall.EINVAL, insn: 3,
		},
		{
			name: "unbounded index on the stack",
			prog: index(mov(asm.R2, asm.R10), aluReg(asm.ALUAdd, asm.R2, asm.R1), ldx(b, asm.R0, asm.R2, -1), exit()),
			msg:  "math between fp pointer and register with unbounded min value is not allowed", errno: syscall.EINVAL, insn: 4,
		},
		{
			name: "masked index",
			prog: index(aluImm(asm.ALUAnd, asm.R1, 15), aluReg(asm.ALUAdd, asm.R6, asm.R1), ldx(b, asm.R0, asm.R6, 0), exit()),
		},
		{
			name: "index compared through a copy",
			prog: index(
				mov(asm.R2, asm.R1),
				movImm(asm.R0, 0),
				jgtImm(asm.R2, 15, 2),
				aluReg(asm.ALUAdd, asm.R6, asm.R1),
				ldx(b, asm.R0, asm.R6, 0),
				exit(),
			),
		},
		{
			name: "index plus a constant compared",
			prog: index(
				aluImm(asm.ALUAdd, asm.R1, 4),
				mov(asm.R2, asm.R1),
				aluImm(asm.ALUSub, asm.R2, 4),
				movImm(asm.R0, 0),
				jgtImm(asm.R1, 15, 2),
				aluReg(asm.ALUAdd, asm.R6, asm.R2),
				ldx(b, asm.R0, asm.R6, 0),
				exit(),
			),
		},
		{
			name: "helper results are unbounded",
			prog: prog([]ins{helper(5), ldMapValue(asm.R6, 0), aluReg(asm.ALUAdd, asm.R6, asm.R0), movImm(asm.R0, 0), exit()}, rels{1: valRel(testBSS, 0)}),
			msg:  "math between map_value pointer and register with unbounded min value is not allowed", errno: syscall.EINVAL, insn: 3,
		},
		{
			name: "32-bit loads are bounded",
			prog: index(ldx(w, asm.R1, asm.R6, 0), aluReg(asm.ALUAdd, asm.R6, asm.R1), movImm(asm.R0, 0), exit()),
		},
		{
			name:  "arena pointers take any offset",
			prog:  prog(withArena(toArena(asm.R1, asm.R6), ldx(dw, asm.R2, asm.R1, 0), aluReg(asm.ALUAdd, asm.R1, asm.R2), ldx(dw, asm.R0, asm.R1, 0), exit()), arenaRels()),
			alu32: []int{3},
		},
	})
}
