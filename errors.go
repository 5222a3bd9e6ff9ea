package bpfarena

import (
	"fmt"
	"syscall"
)

// VerifierError is a program rejected at load by the verifier of the
// engine: the kernel's, or the vm's, which speaks the kernel's messages.
type VerifierError struct {
	Engine  Engine
	Program string
	// Errno is the error the load reported (EACCES, EINVAL, ...).
	Errno syscall.Errno
	// Insn is the instruction slot the rejection names, -1 if unknown.
	Insn int
	// Line is the source line of Insn ("file.c:31"), if known.
	Line string
	// Msg is the verifier's last message, Log the whole log.
	Msg string
	Log string
	Err error
}

func (e *VerifierError) Error() string {
	where := ""
	if e.Insn >= 0 {
		where = fmt.Sprintf(" at insn %d", e.Insn)
		if e.Line != "" {
			where += " (" + e.Line + ")"
		}
	}
	return fmt.Sprintf("%s engine rejected program %s%s: %s (%v)", e.Engine, e.Program, where, e.Msg, e.Errno)
}

// Unwrap returns the engine's error, so errors.Is(err, syscall.EACCES)
// and the like work.
func (e *VerifierError) Unwrap() error { return e.Err }
