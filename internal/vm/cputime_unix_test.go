//go:build unix

package vm

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system time: on a machine shared with
// other work it varies less than the wall time a benchmark measures.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
