package verifier

import (
	"errors"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"strings"
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

type rels = map[int]object.Relocation

// arenaRels is the relocation of arenaProlog.
func arenaRels() rels { return rels{0: valRel(testArena, 0)} }

func withArena(body ...ins) []ins { return append(arenaProlog(), body...) }

type verifyTest struct {
	name  string
	prog  *object.ProgramSpec
	env   *Env   // nil: ArenaFixed
	msg   string // expected Error.Msg; "" means accepted
	errno syscall.Errno
	insn  int // expected Error.Insn when msg != "" (slot); -1 to skip
	// access: expected Access of some instructions (by index) on success.
	access map[int]Access
	// alu32: the instructions expected to be marked ALU32 on success.
	alu32 []int
}

var model618, _ = kversion.Parse("6.18")

func runVerifyTests(t *testing.T, tests []verifyTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{ArenaFixed: true}
			if tt.env != nil {
				env = *tt.env
			}
			if env.Kernel == nil {
				// The table's verdicts were measured on Linux 6.18.
				env.Kernel = model618
			}
			res, err := Verify(tt.prog, env)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("rejected: %v\nlog:\n%s", err, logOf(err))
				}
				for i, want := range tt.access {
					if got := res.Access[i]; got != want {
						t.Errorf("Access[%d] = %d, want %d", i, got, want)
					}
				}
				want := map[int]bool{}
				for _, i := range tt.alu32 {
					want[i] = true
				}
				for i, got := range res.ALU32 {
					if got != want[i] {
						t.Errorf("ALU32[%d] = %v, want %v", i, got, want[i])
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tt.msg)
			}
			var ve *Error
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if ve.Msg != tt.msg {
				t.Errorf("Msg = %q, want %q\nlog:\n%s", ve.Msg, tt.msg, ve.Log)
			}
			if ve.Errno != tt.errno || !errors.Is(err, tt.errno) {
				t.Errorf("Errno = %v, want %v", ve.Errno, tt.errno)
			}
			if tt.insn >= 0 && ve.Insn != tt.insn {
				t.Errorf("Insn = %d, want %d", ve.Insn, tt.insn)
			}
			if !strings.Contains(ve.Log, tt.msg) {
				t.Errorf("log does not contain the message:\n%s", ve.Log)
			}
		})
	}
}

func logOf(err error) string {
	var ve *Error
	if errors.As(err, &ve) {
		return ve.Log
	}
	return ""
}

func TestAccessMarking(t *testing.T) {
	runVerifyTests(t, []verifyTest{
		{
			name: "cast then store and load",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6),     // 1
				st(dw, asm.R1, 0, 7),        // 2
				ldx(dw, asm.R0, asm.R1, 8),  // 3
				stx(w, asm.R10, -8, asm.R0), // 4
				ldx(w, asm.R0, asm.R10, -8), // 5
				exit(),
			), arenaRels()),
			access: map[int]Access{0: AccessNone, 1: AccessNone, 2: AccessArena, 3: AccessArena, 4: AccessOther, 5: AccessOther},
		},
		{
			name: "spill and fill keep the arena pointer",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6),       // 1
				stx(dw, asm.R10, -16, asm.R1), // 2 spill
				movImm(asm.R1, 0),             // 3
				ldx(dw, asm.R2, asm.R10, -16), // 4 fill
				ldx(b, asm.R0, asm.R2, 3),     // 5
				exit(),
			), arenaRels()),
			access: map[int]Access{2: AccessOther, 4: AccessOther, 5: AccessArena},
		},
		{
			name: "ALU keeps the arena pointer",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6),            // 1
				aluImm(asm.ALUAdd, asm.R1, 4096),   // 2
				aluImm(asm.ALUAnd, asm.R1, -4096),  // 3
				alu32Imm(asm.ALUAdd, asm.R1, 8),    // 4
				mov(asm.R3, asm.R1),                // 5
				movImm(asm.R4, 16),                 // 6
				aluReg(asm.ALUAdd, asm.R4, asm.R3), // 7 scalar + arena
				stx(dw, asm.R4, 0, asm.R4),         // 8
				movImm(asm.R0, 0),
				exit(),
			), arenaRels()),
			access: map[int]Access{8: AccessArena},
			alu32:  []int{2, 3}, // not 4 (already 32-bit) nor 7 (scalar += arena pointer)
		},
		{
			name: "arena pointer on both paths",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6), // 1
				mov(asm.R0, asm.R1),     // 2
				jeqImm(asm.R6, 0, 2),    // 3
				toArena(asm.R2, asm.R6), // 4
				ja(1),                   // 5
				toArena(asm.R2, asm.R0), // 6
				atomic(dw, asm.AtomicAdd, asm.R2, 0, asm.R6), // 7
				movImm(asm.R0, 0),
				exit(),
			), arenaRels()),
			access: map[int]Access{7: AccessArena},
		},
		{
			name: "arena on one path, stack on the other",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6), // 1
				jeqImm(asm.R6, 0, 1),    // 2
				mov(asm.R1, asm.R10),    // 3
				st(dw, asm.R1, -8, 0),   // 4
				movImm(asm.R0, 0),
				exit(),
			), arenaRels()),
			msg: "same insn cannot be used with different pointers", errno: syscall.EINVAL, insn: 5,
		},
		{
			name: "arena global address is a scalar",
			prog: prog(withArena(
				ldx(w, asm.R0, asm.R6, 0),
				exit(),
			), arenaRels()),
			msg: "R6 invalid mem access 'scalar'", errno: syscall.EACCES, insn: 2,
		},
		{
			name: "user cast gives a scalar",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6),
				cast(asm.R2, asm.R1, asm.CastToUser),
				ldx(w, asm.R0, asm.R2, 0),
				exit(),
			), arenaRels()),
			msg: "R2 invalid mem access 'scalar'", errno: syscall.EACCES, insn: 4,
		},
		{
			name: "32-bit copy of an arena pointer is a scalar",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6),
				mov32(asm.R2, asm.R1),
				ldx(w, asm.R0, asm.R2, 0),
				exit(),
			), arenaRels()),
			msg: "R2 invalid mem access 'scalar'", errno: syscall.EACCES, insn: 4,
		},
		{
			name: "sign-extending load from arena",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6),
				ldxsx(w, asm.R0, asm.R1, 0),
				exit(),
			), arenaRels()),
			access: map[int]Access{2: AccessArena},
		},
		{
			name: "atomics into arena",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6),
				movImm(asm.R2, 1),
				atomic(dw, asm.AtomicAdd|asm.AtomicFetch, asm.R1, 0, asm.R2),
				atomic(w, asm.AtomicXchg, asm.R1, 8, asm.R2),
				movImm(asm.R0, 0),
				atomic(dw, asm.AtomicCmpXchg, asm.R1, 16, asm.R2),
				atomic(w, asm.AtomicOr, asm.R1, 0, asm.R2),
				exit(),
			), arenaRels()),
			access: map[int]Access{3: AccessArena, 4: AccessArena, 6: AccessArena, 7: AccessArena},
		},
		{
			name: "atomic fetch_and into arena",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6),
				movImm(asm.R2, 1),
				atomic(dw, asm.AtomicAnd|asm.AtomicFetch, asm.R1, 0, asm.R2),
				movImm(asm.R0, 0),
				exit(),
			), arenaRels()),
			msg: "BPF_ATOMIC stores into R1 arena is not allowed", errno: syscall.EACCES, insn: 4,
		},
		{
			name: "atomic fetch_xor into stack is fine",
			prog: prog([]ins{
				st(dw, asm.R10, -8, 0),
				movImm(asm.R2, 1),
				atomic(dw, asm.AtomicXor|asm.AtomicFetch, asm.R10, -8, asm.R2),
				movImm(asm.R0, 0),
				exit(),
			}, nil),
			access: map[int]Access{2: AccessOther},
		},
	})
}

func TestArenaRules(t *testing.T) {
	runVerifyTests(t, []verifyTest{
		{
			name: "second arena",
			prog: prog([]ins{
				ldMapValue(asm.R1, 0),
				ldMap(asm.R2),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: valRel(testArena, 0), 1: mapRel(testArena2)}),
			msg: "Only one arena per program", errno: syscall.EBUSY, insn: 2,
		},
		{
			name: "same arena twice",
			prog: prog([]ins{
				ldMapValue(asm.R1, 0),
				ldMap(asm.R2),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: valRel(testArena, 0), 1: mapRel(testArena)}),
		},
		{
			name: "arena address not fixed",
			prog: prog([]ins{
				ldMap(asm.R1),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: mapRel(testArena)}),
			env: &Env{},
			msg: "arena's user address must be set via map_extra or mmap()", errno: syscall.EINVAL, insn: 0,
		},
		{
			name: "arena address not needed without an arena",
			prog: prog([]ins{movImm(asm.R0, 0), exit()}, nil),
			env:  &Env{},
		},
		{
			name: "cast with another imm",
			prog: prog(withArena(
				cast(asm.R1, asm.R6, 2),
				movImm(asm.R0, 0),
				exit(),
			), arenaRels()),
			msg: "addr_space_cast insn can only convert between address space 1 and 0", errno: syscall.EINVAL, insn: 2,
		},
		{
			name: "cast without an arena",
			prog: prog([]ins{
				movImm(asm.R1, 0),
				toArena(asm.R1, asm.R1),
				movImm(asm.R0, 0),
				exit(),
			}, nil),
			msg: "addr_space_cast insn can only be used in a program that has an associated arena", errno: syscall.EINVAL, insn: 1,
		},
		{
			name: "direct value offset too large",
			prog: prog([]ins{
				ldMapValue(asm.R1, 1<<30),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: valRel(testArena, 1<<30)}),
			msg: "direct value offset of 1073741824 is not allowed", errno: syscall.EINVAL, insn: 0,
		},
		{
			name: "sleepable kfunc in a non-sleepable program",
			prog: ofType(object.SchedCLS, prog([]ins{
				ldMap(asm.R1),
				movImm(asm.R2, 0),
				movImm(asm.R3, 1),
				movImm(asm.R4, -1),
				movImm(asm.R5, 0),
				kcall(),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: mapRel(testArena), 5: kfRel("bpf_arena_alloc_pages")})),
			msg: "program must be sleepable to call sleepable kfunc bpf_arena_alloc_pages", errno: syscall.EACCES, insn: 6,
		},
		{
			name: "syscall programs are sleepable",
			prog: prog([]ins{
				ldMap(asm.R1),
				movImm(asm.R2, 0),
				movImm(asm.R3, 1),
				movImm(asm.R4, -1),
				movImm(asm.R5, 0),
				kcall(),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: mapRel(testArena), 5: kfRel("bpf_arena_alloc_pages")}),
		},
		{
			name: "unknown kfunc",
			prog: prog([]ins{
				kcall(),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: kfRel("bpf_obj_new_impl")}),
			msg: "calling kernel function bpf_obj_new_impl is not allowed", errno: syscall.EACCES, insn: 0,
		},
	})
}

// ofType sets p's program type.
func ofType(t object.ProgramType, p *object.ProgramSpec) *object.ProgramSpec { p.Type = t; return p }

// sleepable marks p sleepable.
func sleepable(p *object.ProgramSpec) *object.ProgramSpec { p.Sleepable = true; return p }

func TestArenaKfuncs(t *testing.T) {
	alloc := []ins{
		ldMap(asm.R1),      // 0-1 slots
		movImm(asm.R2, 0),  // 1
		movImm(asm.R3, 1),  // 2
		movImm(asm.R4, -1), // 3
		movImm(asm.R5, 0),  // 4
		kcall(),            // 5
		// r0 is a number: the program casts it.
		toArena(asm.R1, asm.R0),    // 6
		st(dw, asm.R1, 0, 1),       // 7
		ldx(dw, asm.R0, asm.R1, 0), // 8
		exit(),
	}
	runVerifyTests(t, []verifyTest{
		{
			name:   "alloc pages returns a number to cast",
			prog:   sleepable(prog(alloc, rels{0: mapRel(testArena), 5: kfRel("bpf_arena_alloc_pages")})),
			access: map[int]Access{7: AccessArena, 8: AccessArena},
		},
		{
			name: "alloc pages result used without the cast",
			prog: sleepable(prog([]ins{
				ldMap(asm.R1), movImm(asm.R2, 0), movImm(asm.R3, 1), movImm(asm.R4, -1), movImm(asm.R5, 0),
				kcall(),
				st(dw, asm.R0, 0, 1),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: mapRel(testArena), 5: kfRel("bpf_arena_alloc_pages")})),
			msg: "R0 invalid mem access 'scalar'", errno: syscall.EACCES, insn: 7,
		},
		{
			name: "alloc pages without a map",
			prog: sleepable(prog([]ins{
				movImm(asm.R1, 0), movImm(asm.R2, 0), movImm(asm.R3, 1), movImm(asm.R4, -1), movImm(asm.R5, 0),
				kcall(),
				movImm(asm.R0, 0),
				exit(),
			}, rels{5: kfRel("bpf_arena_alloc_pages")})),
			msg: "Possibly NULL pointer passed to trusted arg0", errno: syscall.EACCES, insn: 5,
		},
		{
			name: "alloc pages given a map value",
			prog: sleepable(prog([]ins{
				ldMapValue(asm.R1, 0), movImm(asm.R2, 0), movImm(asm.R3, 1), movImm(asm.R4, -1), movImm(asm.R5, 0),
				kcall(),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: valRel(testBSS, 0), 5: kfRel("bpf_arena_alloc_pages")})),
			msg: "R1 must be referenced or trusted", errno: syscall.EINVAL, insn: 6,
		},
		{
			name: "free pages",
			prog: sleepable(prog([]ins{
				ldMap(asm.R1), movImm(asm.R2, 0), movImm(asm.R3, 1),
				kcall(),
				movImm(asm.R0, 0),
				exit(),
			}, rels{0: mapRel(testArena), 3: kfRel("bpf_arena_free_pages")})),
		},
		{
			name: "free pages leaves r0 unset",
			prog: sleepable(prog([]ins{
				ldMap(asm.R1), movImm(asm.R2, 0), movImm(asm.R3, 1),
				kcall(),
				exit(),
			}, rels{0: mapRel(testArena), 3: kfRel("bpf_arena_free_pages")})),
			msg: "R0 !read_ok", errno: syscall.EACCES, insn: 5,
		},
		{
			name: "num iterator loop",
			prog: prog([]ins{
				mov(asm.R1, asm.R10),           // 0
				aluImm(asm.ALUAdd, asm.R1, -8), // 1
				movImm(asm.R2, 0),              // 2
				movImm(asm.R3, 10),             // 3
				kcall(),                        // 4 new
				mov(asm.R1, asm.R10),           // 5
				aluImm(asm.ALUAdd, asm.R1, -8), // 6
				kcall(),                        // 7 next
				jeqImm(asm.R0, 0, 2),           // 8
				ldx(w, asm.R2, asm.R0, 0),      // 9
				ja(-6),                         // 10
				mov(asm.R1, asm.R10),           // 11
				aluImm(asm.ALUAdd, asm.R1, -8), // 12
				kcall(),                        // 13 destroy
				movImm(asm.R0, 0),
				exit(),
			}, rels{4: kfRel("bpf_iter_num_new"), 7: kfRel("bpf_iter_num_next"), 13: kfRel("bpf_iter_num_destroy")}),
			access: map[int]Access{9: AccessOther},
		},
		{
			name: "iterator used before it is created",
			prog: prog([]ins{mov(asm.R1, asm.R10), aluImm(asm.ALUAdd, asm.R1, -8), kcall(), movImm(asm.R0, 0), exit()},
				rels{2: kfRel("bpf_iter_num_next")}),
			msg: "expected an initialized iter_num as arg #0", errno: syscall.EINVAL, insn: 2,
		},
		{
			name: "iterator created twice",
			prog: prog([]ins{
				mov(asm.R1, asm.R10), aluImm(asm.ALUAdd, asm.R1, -8), movImm(asm.R2, 0), movImm(asm.R3, 1), kcall(),
				mov(asm.R1, asm.R10), aluImm(asm.ALUAdd, asm.R1, -8), movImm(asm.R2, 0), movImm(asm.R3, 1), kcall(),
				movImm(asm.R0, 0), exit(),
			}, rels{4: kfRel("bpf_iter_num_new"), 9: kfRel("bpf_iter_num_new")}),
			msg: "expected uninitialized iter_num as arg #0", errno: syscall.EINVAL, insn: 9,
		},
		{
			name: "iterator not destroyed",
			prog: prog([]ins{
				mov(asm.R1, asm.R10), aluImm(asm.ALUAdd, asm.R1, -8), movImm(asm.R2, 0), movImm(asm.R3, 1), kcall(),
				movImm(asm.R0, 0), exit(),
			}, rels{4: kfRel("bpf_iter_num_new")}),
			msg: "BPF_EXIT instruction in main prog would lead to reference leak", errno: syscall.EINVAL, insn: 6,
		},
		{
			name: "iterator not on the stack",
			prog: prog([]ins{
				movImm(asm.R1, 0),
				movImm(asm.R2, 0),
				movImm(asm.R3, 10),
				kcall(),
				movImm(asm.R0, 0),
				exit(),
			}, rels{3: kfRel("bpf_iter_num_new")}),
			msg: "arg#0 expected pointer to an iterator on stack", errno: syscall.EINVAL, insn: 3,
		},
	})
}

func TestAccessMarkingPaths(t *testing.T) {
	// A static function called with an arena pointer and with another
	// arena pointer: one context each, same marking.
	twice := prog(withArena(
		toArena(asm.R1, asm.R6), // 1 (slot 2)
		pcall(5),                // 2 (slot 3) -> slot 9 = insn 8
		toArena(asm.R1, asm.R6), // 3
		aluImm(asm.ALUAdd, asm.R1, 64),
		pcall(2), // 5 (slot 6) -> slot 9
		movImm(asm.R0, 0),
		exit(),
		ldx(dw, asm.R0, asm.R1, 0), // 8 (slot 9)
		exit(),
	), arenaRels())
	// A register that is an arena pointer on one path and a number on
	// the other: the ALU instruction is marked (the kernel converts it
	// once for all paths), the number is never dereferenced.
	mixed := prog(withArena(
		movImm(asm.R1, 5),             // 1
		jeqImm(asm.R6, 0, 1),          // 2
		toArena(asm.R1, asm.R6),       // 3
		aluImm(asm.ALUAdd, asm.R1, 8), // 4
		mov(asm.R0, asm.R1),           // 5
		exit(),
	), arenaRels())
	// An arena pointer kept in a callee-saved register across a helper
	// call and in the stack of a static function.
	saved := prog(withArena(
		toArena(asm.R7, asm.R6),        // 1
		helper(5),                      // 2
		mov(asm.R1, asm.R10),           // 3
		aluImm(asm.ALUAdd, asm.R1, -8), // 4
		stx(dw, asm.R1, 0, asm.R7),     // 5 spill into the caller's frame
		pcall(2),                       // 6 (slot 7) -> slot 10 = insn 9
		movImm(asm.R0, 0),
		exit(),
		ldx(dw, asm.R2, asm.R1, 0), // 9 fill through the caller's stack pointer
		st(w, asm.R2, 4, 1),        // 10
		movImm(asm.R0, 0),
		exit(),
	), arenaRels())
	runVerifyTests(t, []verifyTest{
		{name: "static function called twice", prog: twice, access: map[int]Access{8: AccessArena}, alu32: []int{4}},
		{name: "arena pointer on one path only", prog: mixed, alu32: []int{4}},
		{name: "arena pointer saved across calls", prog: saved, access: map[int]Access{5: AccessOther, 9: AccessOther, 10: AccessArena}},
	})
}

func TestAcquireRelease(t *testing.T) {
	// load_acquire's base is src (dst receives the value); store_release's
	// base is dst, like any store.
	runVerifyTests(t, []verifyTest{
		{
			name: "arena",
			prog: prog(withArena(
				toArena(asm.R1, asm.R6),                              // 1
				atomic(dw, asm.AtomicLoadAcquire, asm.R0, 0, asm.R1), // 2: r0 = load_acquire(r1)
				atomic(b, asm.AtomicStoreRelease, asm.R1, 8, asm.R0), // 3
				exit(),
			), arenaRels()),
			access: map[int]Access{2: AccessArena, 3: AccessArena},
		},
		{
			name: "load_acquire from a number",
			prog: prog([]ins{
				movImm(asm.R1, 64),
				atomic(w, asm.AtomicLoadAcquire, asm.R0, 0, asm.R1),
				exit(),
			}, nil),
			msg: "R1 invalid mem access 'scalar'", errno: syscall.EACCES, insn: 1,
		},
	})
}

func TestJoinsAndClobbers(t *testing.T) {
	// The loop counter takes more values than a join point keeps apart:
	// the states are merged (the spilled counter becomes unknown) and the
	// walk converges; the spilled arena pointer survives every merge.
	loop := prog(withArena(
		toArena(asm.R1, asm.R6),       // 1
		stx(dw, asm.R10, -16, asm.R1), // 2 spill the arena pointer
		movImm(asm.R7, 0),             // 3
		stx(dw, asm.R10, -8, asm.R7),  // 4: loop head
		st(b, asm.R10, -24, 1),        // 5 a data byte
		aluImm(asm.ALUAdd, asm.R7, 1), // 6
		jgtImm(asm.R7, 99, 1),         // 7
		ja(-5),                        // 8 -> 4
		ldx(dw, asm.R2, asm.R10, -16), // 9 fill
		st(w, asm.R2, 0, 7),           // 10
		ldx(dw, asm.R0, asm.R10, -8),  // 11
		exit(),
	), arenaRels())
	// A store at an unknown stack offset may overwrite the spilled arena
	// pointer: filled back, it is a number.
	clobbered := prog(withArena(
		toArena(asm.R1, asm.R6),            // 1
		stx(dw, asm.R10, -16, asm.R1),      // 2
		ldx(b, asm.R3, asm.R1, 0),          // 3 a bounded number from the arena
		aluImm(asm.ALUAnd, asm.R3, 8),      // 4
		mov(asm.R4, asm.R10),               // 5
		aluImm(asm.ALUAdd, asm.R4, -16),    // 6
		aluReg(asm.ALUAdd, asm.R4, asm.R3), // 7 fp-16 or fp-8
		st(dw, asm.R4, 0, 0),               // 8
		ldx(dw, asm.R2, asm.R10, -16),      // 9
		st(w, asm.R2, 0, 7),                // 10
		movImm(asm.R0, 0),
		exit(),
	), arenaRels())
	runVerifyTests(t, []verifyTest{
		{name: "loop merges", prog: loop, access: map[int]Access{2: AccessOther, 9: AccessOther, 10: AccessArena}},
		{name: "unknown stack offset", prog: clobbered, msg: "R2 invalid mem access 'scalar'", errno: syscall.EACCES, insn: 11},
	})
}

func TestLiveEdges(t *testing.T) {
	p := prog([]ins{
		movImm(asm.R0, 0),
		jeqImm(asm.R0, 0, 1), // always taken: r0 is the constant 0
		movImm(asm.R0, 1),
		ldx(8, asm.R2, asm.R1, 0), // unknown value from ctx
		jeqImm(asm.R2, 7, 1),      // both sides
		movImm(asm.R0, 2),
		exit(),
	}, nil)
	p.Type = object.Syscall
	p.Sleepable = true
	res, err := Verify(p, Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		i           int
		next, taken bool
	}{{1, false, true}, {4, true, true}, {0, true, true}} {
		if next, taken := res.LiveEdges(c.i); next != c.next || taken != c.taken {
			t.Errorf("LiveEdges(%d) = %v, %v; want %v, %v", c.i, next, taken, c.next, c.taken)
		}
	}
}

func TestDecideRange(t *testing.T) {
	u8 := value{k: kScalar, bits: 8}
	u32 := value{k: kScalar, bits: 32}
	c := constScalar
	for _, tt := range []struct {
		name string
		op   asm.JumpOp
		d, s value
		is32 bool
		want int
	}{
		{"u32 <= -3 always", asm.JumpJLE, u32, c(^uint64(2)), false, 1},
		{"-3 >= u32 always", asm.JumpJGE, c(^uint64(2)), u32, false, 1},
		{"u32 < 0xfffffffffffffffa always", asm.JumpJLT, u32, c(^uint64(5)), false, 1},
		{"u8 > 255 never", asm.JumpJGT, u8, c(255), false, 0},
		{"u8 == 256 never", asm.JumpJEQ, u8, c(256), false, 0},
		{"u8 != 256 always", asm.JumpJNE, u8, c(256), false, 1},
		{"u8 s> 300 never", asm.JumpJSGT, u8, c(300), false, 0},
		{"u32 > 5 depends", asm.JumpJGT, u32, c(5), false, -1},
		{"u32 s> -1 (64-bit) undecided here", asm.JumpJSGT, u32, c(^uint64(0)), false, -1},
		{"w: u32 s< 0 undecided (sign bit)", asm.JumpJSLT, u32, c(0), true, -1},
		{"w: u8 < 0x100 always", asm.JumpJLT, u8, c(0x100), true, 1},
		{"unbounded depends", asm.JumpJLT, unknownScalar(), c(5), false, -1},
		{"pointer depends", asm.JumpJLT, value{k: kStack}, c(5), false, -1},
	} {
		if got := decide(tt.op, tt.d, tt.s, tt.is32); got != tt.want {
			t.Errorf("%s: decide = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// egress_ifindex of struct xdp_md is for programs attached to a devmap
// (BPF_XDP_DEVMAP, 33), not a cpumap (BPF_XDP_CPUMAP, 35).
func TestXDPEgressIfindex(t *testing.T) {
	ldx := asm.MemOpCode(asm.ClassLDX, asm.ModeMEM, asm.SizeW)
	insns := asm.Instructions{
		{OpCode: ldx, Dst: asm.R0, Src: asm.R1, Offset: 20},
		{OpCode: asm.ALUOpCode(asm.ClassALU64, asm.ALUMov, asm.SourceK), Dst: asm.R0, Constant: 2},
		{OpCode: asm.OpExit},
	}
	for _, tt := range []struct {
		attach object.AttachType
		ok     bool
	}{{object.AttachXDPDevmap, true}, {object.AttachXDPCPUMap, false}, {0, false}} {
		p := &object.ProgramSpec{Name: "x", Type: object.XDP, AttachType: tt.attach, License: "GPL", Instructions: insns}
		_, err := Verify(p, Env{})
		if (err == nil) != tt.ok {
			t.Errorf("attach type %d: err %v, want accepted %v", tt.attach, err, tt.ok)
		}
	}
}
