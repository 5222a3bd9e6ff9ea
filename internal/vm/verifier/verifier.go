package verifier

import (
	"fmt"
	"sort"
	"syscall"

	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

// Access is the kind of memory a load, store or atomic reaches through
// its base register.
type Access uint8

// Access kinds.
const (
	AccessNone  Access = iota // not a memory instruction
	AccessOther               // stack, ctx, map value, packet, helper memory: checked at run time
	AccessArena               // arena: kern_vm_start + (u32)reg + off, fault tolerant
)

// Env is what the verifier needs to know beyond the program.
type Env struct {
	// ArenaFixed reports whether the arena's user address is fixed
	// (map_extra or an mmap); programs using an arena need it.
	ArenaFixed bool
	// LogLevel as in BPF_PROG_LOAD; the log is kept on success when > 0.
	// At 1 and above the log traces each instruction as it is checked.
	LogLevel uint32
	// StrictStack rejects reads of stack bytes that were never written,
	// as the kernel does for loaders without CAP_PERFMON. By default they
	// read as unknown numbers, as for a privileged loader (this project's
	// kernel engine runs as root).
	StrictStack bool
	// MapStruct gives the kernel struct behind a map pointer (struct
	// bpf_arena for an arena, struct bpf_map otherwise), for the
	// BTF-typed reads the kernel allows through one (arena_base() reads
	// user_vm_start so). Nil, or a nil result: such reads are rejected.
	MapStruct func(*object.MapSpec) *btf.Struct
	// MapContents, if set, gives the frozen contents of a read-only map
	// as loaded (a .kconfig map is filled at load, unlike its spec's).
	MapContents func(*object.MapSpec) []byte
	// Kernel is the kernel whose rules apply; nil means
	// kversion.Default().
	Kernel *kversion.Model
}

// Result is what the interpreter needs from an accepted program.
type Result struct {
	// Access[i] is the access kind of instruction i of the program
	// (index into ProgramSpec.Instructions, not slots).
	Access []Access
	// ALU32[i] is set for an ALU64 arithmetic instruction (not a move)
	// whose destination holds an arena pointer, on some path: Linux
	// performs it in 32 bits, zeroing the upper half of the result, and
	// so must the interpreter ("64-bit ALU on arena pointers is done as
	// 32-bit").
	ALU32 []bool
	// Log is the verifier log (level > 0).
	Log string
	// Processed is the number of instructions the pass looked at, the
	// "processed N insns" figure of the log.
	Processed int
	// NonSleepable[i] is set for a kfunc call at instruction index i made
	// outside a sleepable context on some path (a non-sleepable program,
	// or inside an RCU, preemption, IRQ or lock region): where the kernel
	// defers frees from such a context, the call's frees take effect
	// after the program returns.
	NonSleepable []bool

	edges []uint8
}

// Sides of a conditional jump found reachable.
const (
	edgeFall uint8 = 1 << iota
	edgeTaken
)

// LiveEdges reports which successors of the conditional jump at index i
// the pass found reachable: the next instruction, the jump target, or
// both. The kernel hard-wires a jump with a dead side, which shows when a
// run breaks the pass's assumptions (a faulted arena atomic leaves its
// register as it was); the interpreter does the same with this answer.
// Anything that is not a conditional jump, or was never reached, reports
// both sides live.
func (r *Result) LiveEdges(i int) (next, taken bool) {
	if r == nil || i < 0 || i >= len(r.edges) || r.edges[i] == 0 {
		return true, true
	}
	return r.edges[i]&edgeFall != 0, r.edges[i]&edgeTaken != 0
}

// Error is a rejection.
type Error struct {
	Program string
	Insn    int    // slot of the offending instruction, -1 for the program as a whole
	Line    string // source line info, if known
	Msg     string // the kernel's message, e.g. "Only one arena per program"
	Errno   syscall.Errno
	Log     string // the whole log
}

func (e *Error) Error() string {
	where := ""
	switch {
	case e.Insn >= 0 && e.Line != "":
		where = fmt.Sprintf(" insn %d (%s):", e.Insn, e.Line)
	case e.Insn >= 0:
		where = fmt.Sprintf(" insn %d:", e.Insn)
	}
	return fmt.Sprintf("program %s:%s %s (%v)", e.Program, where, e.Msg, e.Errno)
}

// Unwrap lets errors.Is(err, syscall.EINVAL) and the like work.
func (e *Error) Unwrap() error { return e.Errno }

// Verify checks prog and, if it is accepted, says for each instruction
// what memory it reaches. A nil prog or an empty one is rejected like the
// kernel rejects an empty program.
func Verify(prog *object.ProgramSpec, env Env) (*Result, error) {
	v := newVerifier(prog, env)
	if err := v.run(); err != nil {
		return nil, err
	}
	return &Result{Access: v.access, ALU32: v.alu32, NonSleepable: v.nonSleepable, edges: v.edges, Log: v.finalLog(), Processed: v.processed}, nil
}

// ArenaALU reports whether instruction i (an index into
// ProgramSpec.Instructions) is 64-bit arithmetic on an arena pointer,
// which the interpreter must run as the 32-bit operation. A nil Result
// marks nothing.
func (r *Result) ArenaALU(i int) bool {
	return r != nil && i >= 0 && i < len(r.ALU32) && r.ALU32[i]
}

// KfuncNames lists the kernel functions the pass knows, sorted.
func KfuncNames() []string {
	names := make([]string, 0, len(kfuncs))
	for n := range kfuncs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// HelperIDs lists the helper function ids the pass knows, sorted.
func HelperIDs() []int32 {
	ids := make([]int32, 0, len(helpers))
	for id := range helpers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
