// Package kernel is the engine that runs BPF arena objects on the running
// Linux kernel through bpf(2), loading them the way libbpf 1.7 does on
// Linux 6.18:
//
//  1. The object's BTF, with the edits the kernel needs (no extern linkage,
//     .ksyms entries as int VARs), so that programs get func and line info
//     and global functions with __arg_arena arguments verify on their own.
//  2. The arena, created without BTF and mapped at once: at map_extra
//     exactly (never over an existing mapping of this process) or where the
//     kernel chooses. Mapping fixes the arena's user address, which programs
//     using it need before they load. Then the initial image of the arena
//     globals is copied to offset 0.
//  3. The other maps: global data as mmapable arrays with their DATASEC as
//     BTF value type, written and, for .rodata and .kconfig, frozen and
//     mapped read-only; ordinary maps with their BTF key and value types.
//  4. The programs, after CO-RE relocation against the kernel's BTF and
//     with map fds, global offsets and kfunc BTF ids filled in.
//
// Go-side page operations on the arena (arena.Backend) run the kernel's own
// page kfuncs through a small sleepable syscall program generated at load,
// so Go and BPF allocate from one allocator under one set of rules.
//
// Facts about Linux 6.18.44 as found on this project's machines, which
// differ from what one might expect: syscall programs must be sleepable;
// program stream writes fail with -ENOMEM, so arena faults are handled
// (loads give 0, stores are dropped) but never reported on the stream;
// without CONFIG_KALLSYMS_ALL no __ksym variable can be loaded; fentry and
// fexit programs are refused with EPERM and no log.
//
// On systems other than Linux, Load reports engine.ErrNotSupported.
package kernel

import (
	"fmt"
	"strings"
	"syscall"
)

// VerifierError is a program the kernel refused to load. It carries the
// verifier log and wraps the errno, so errors.Is(err, unix.EACCES) works.
type VerifierError struct {
	Program string
	Errno   syscall.Errno
	Log     string
	// Truncated is set when the log did not fit even the largest buffer.
	Truncated bool
	// Cause, when set, says what the log means in plainer words, such as
	// the kfunc a poisoned call stands for.
	Cause string
	// CauseErr is the error behind Cause, for errors.Is.
	CauseErr error
}

func (e *VerifierError) Error() string {
	msg := fmt.Sprintf("load program %s: %v", e.Program, e.Errno)
	if line := lastLogLine(e.Log); line != "" {
		msg += ": " + line
	}
	if e.Cause != "" {
		msg += ": " + e.Cause
	}
	return msg
}

// Unwrap returns the errno, and the cause where one is known.
func (e *VerifierError) Unwrap() []error {
	if e.CauseErr != nil {
		return []error{e.Errno, e.CauseErr}
	}
	return []error{e.Errno}
}

// lastLogLine is the verifier's conclusion: the last non-empty line that is
// not the statistics trailer, which says nothing about the cause, nor the
// two states that follow "infinite loop detected at insn N".
func lastLogLine(log string) string {
	// Linux 7.x follows the message with a diagnosis ("Verification
	// failed: ...", reason, context, suggestion); the message is the
	// line before it.
	if i := strings.Index(log, "\nVerification failed: "); i >= 0 {
		log = log[:i]
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "processed ") || strings.HasPrefix(l, "verification time") ||
			strings.HasPrefix(l, "stack depth") || strings.HasPrefix(l, "-- END PROG LOAD LOG --") ||
			strings.HasPrefix(l, "cur state:") || strings.HasPrefix(l, "old state:") {
			continue
		}
		return l
	}
	return ""
}
