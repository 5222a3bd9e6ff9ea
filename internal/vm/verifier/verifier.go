// Package verifier is the vm engine's static pass. It rejects what Linux
// 6.18 rejects about arenas, with the kernel's messages, and tells the
// interpreter what each memory access goes through (arena or other memory),
// which only a static pass can know: an arena pointer in a register is a
// plain 32-bit number.
package verifier

import (
	"fmt"
	"syscall"

	"github.com/bpfarena/bpfarena/object"
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
	LogLevel uint32
}

// Result is what the interpreter needs from an accepted program.
type Result struct {
	// Access[i] is the access kind of instruction i of the program
	// (index into ProgramSpec.Instructions, not slots).
	Access []Access
	// Log is the verifier log (level > 0).
	Log string
}

// Error is a rejection.
type Error struct {
	Program string
	Insn    int    // slot of the offending instruction
	Line    string // source line info, if known
	Msg     string // the kernel's message, e.g. "Only one arena per program"
	Errno   syscall.Errno
	Log     string // the whole log
}

func (e *Error) Error() string {
	return fmt.Sprintf("program %s: insn %d: %s (%v)", e.Program, e.Insn, e.Msg, e.Errno)
}

// Unwrap lets errors.Is(err, syscall.EINVAL) and the like work.
func (e *Error) Unwrap() error { return e.Errno }

// Verify checks prog. Stand-in: accepts everything, marks every memory
// instruction as AccessOther. To be replaced by the real pass.
func Verify(prog *object.ProgramSpec, env Env) (*Result, error) {
	res := &Result{Access: make([]Access, len(prog.Instructions))}
	for i, ins := range prog.Instructions {
		switch ins.OpCode & 7 {
		case 1, 2, 3: // LDX, ST, STX
			res.Access[i] = AccessOther
		}
	}
	return res, nil
}
