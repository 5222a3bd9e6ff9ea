//go:build unix

package bpfarena

import "golang.org/x/sys/unix"

func dupFD(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}
