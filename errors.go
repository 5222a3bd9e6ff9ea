package bpfarena

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/bpfarena/bpfarena/internal/kernel"
	"github.com/bpfarena/bpfarena/internal/vm/verifier"
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
	// Hint, if set, explains a rejection with a known cause in how
	// the compiler translated the source, and how to write it instead.
	Hint string
	Err  error
}

func (e *VerifierError) Error() string {
	where := ""
	if e.Insn >= 0 {
		where = fmt.Sprintf(" at insn %d", e.Insn)
		if e.Line != "" {
			where += " (" + e.Line + ")"
		}
	}
	s := fmt.Sprintf("%s engine rejected program %s%s: %s (%v)", e.Engine, e.Program, where, e.Msg, e.Errno)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap returns the engine's error, so errors.Is(err, syscall.EACCES)
// and the like work.
func (e *VerifierError) Unwrap() error { return e.Err }

// asVerifierError turns an engine's rejection into a *VerifierError that
// wraps it; other errors pass through.
func asVerifierError(eng Engine, spec *Spec, err error) error {
	if err == nil {
		return nil
	}
	if ve := toVerifierError(eng, err); ve != nil {
		ve.Hint = uncastArenaHint(spec, ve.Program, ve.Insn, ve.Msg)
		return ve
	}
	return err
}

func toVerifierError(eng Engine, err error) *VerifierError {
	var kv *kernel.VerifierError
	if errors.As(err, &kv) {
		insn, line := kernelLogPosition(kv.Log)
		msg := lastMessage(kv.Log)
		if kv.Cause != "" {
			msg = kv.Cause
		}
		return &VerifierError{Engine: eng, Program: kv.Program, Errno: kv.Errno, Insn: insn, Line: line,
			Msg: msg, Log: kv.Log, Err: err}
	}
	var vv *verifier.Error
	if errors.As(err, &vv) {
		return &VerifierError{Engine: eng, Program: vv.Program, Errno: vv.Errno, Insn: vv.Insn, Line: vv.Line,
			Msg: vv.Msg, Log: vv.Log, Err: err}
	}
	return nil
}

var (
	insnLine   = regexp.MustCompile(`^(\d+): \([0-9a-f]{2}\)`)
	sourceLine = regexp.MustCompile(`^; .* @ (\S+:\d+)$`)
)

// kernelLogPosition finds the last instruction the kernel's log traced and
// the source line shown before it.
func kernelLogPosition(log string) (int, string) {
	insn, line := -1, ""
	for _, l := range strings.Split(log, "\n") {
		if m := insnLine.FindStringSubmatch(l); m != nil {
			insn, _ = strconv.Atoi(m[1])
		} else if m := sourceLine.FindStringSubmatch(l); m != nil {
			line = m[1]
		}
	}
	return insn, line
}

// lastMessage is the verifier's conclusion: the last line that is neither
// an instruction trace nor the statistics trailer.
func lastMessage(log string) string {
	// Linux 7.x follows the message with a diagnosis; the message is the
	// line before it.
	if i := strings.Index(log, "\nVerification failed: "); i >= 0 {
		log = log[:i]
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "", strings.HasPrefix(l, "processed "), strings.HasPrefix(l, "verification time"),
			strings.HasPrefix(l, "stack depth"), strings.HasPrefix(l, "-- "), strings.HasPrefix(l, ";"),
			insnLine.MatchString(l):
			continue
		}
		return l
	}
	return ""
}
