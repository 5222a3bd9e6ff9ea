// Package kernel is the engine that runs BPF arena objects on the running
// Linux kernel through bpf(2), loading them the way libbpf 1.7 does on
// Linux 6.18: BTF first, then the arena (created and mmapped before any
// program), then the other maps, then the programs.
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
}

func (e *VerifierError) Error() string {
	msg := fmt.Sprintf("load program %s: %v", e.Program, e.Errno)
	if line := lastLogLine(e.Log); line != "" {
		msg += ": " + line
	}
	return msg
}

// Unwrap returns the errno.
func (e *VerifierError) Unwrap() error { return e.Errno }

// lastLogLine is the verifier's conclusion: the last non-empty line that is
// not the statistics trailer, which says nothing about the cause.
func lastLogLine(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "processed ") || strings.HasPrefix(l, "verification time") ||
			strings.HasPrefix(l, "stack depth") || strings.HasPrefix(l, "-- END PROG LOAD LOG --") {
			continue
		}
		return l
	}
	return ""
}
