package main

import (
	"fmt"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// attach hands count_getpid to cilium/ebpf and attaches it to the
// syscalls/sys_enter_getpid tracepoint.
func attach(objs *TpObjects) (detach func(), err error) {
	prog, err := objs.CountGetpid.EBPF()
	if err != nil {
		return nil, err
	}
	tp, err := link.Tracepoint("syscalls", "sys_enter_getpid", prog, nil)
	if err != nil {
		prog.Close()
		return nil, fmt.Errorf("%w: attaching to syscalls/sys_enter_getpid: %v", errSkipped, err)
	}
	return func() { tp.Close(); prog.Close() }, nil
}

// getpids makes n getpid system calls.
func getpids(n int) error {
	for i := 0; i < n; i++ {
		unix.Getpid() // a raw syscall each time: no libc caching
	}
	return nil
}
