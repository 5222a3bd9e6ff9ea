//go:build linux

package bpfarena_test

import (
	"errors"
	"os"
	"testing"

	"github.com/bpfarena/bpfarena"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// An arena program attached to a real tracepoint with cilium/ebpf/link
// counts this process's getpid calls in arena memory, read from Go.
func TestAttachTracepoint(t *testing.T) {
	spec := specOf(t, "examples/counter.bpf.o")
	pid := uint32(os.Getpid())
	if err := spec.SetVariable("target_pid", []byte{byte(pid), byte(pid >> 8), byte(pid >> 16), byte(pid >> 24)}); err != nil {
		t.Fatal(err)
	}
	coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: bpfarena.Kernel, Programs: []string{"count_getpid"}})
	if errors.Is(err, bpfarena.ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()

	prog, err := coll.Program("count_getpid").EBPF()
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	mountTracefs(t)
	tp, err := link.Tracepoint("syscalls", "sys_enter_getpid", prog, nil)
	if err != nil {
		t.Skipf("tracepoint syscalls/sys_enter_getpid: %v", err)
	}
	defer tp.Close()

	calls := global[uint64](t, coll, "getpid_calls")
	before := calls.Get()
	const n = 25
	for i := 0; i < n; i++ {
		unix.Getpid() // a raw syscall each time: no libc caching
	}
	if got := calls.Get() - before; got != n {
		t.Fatalf("counted %d getpid calls, want %d", got, n)
	}
}

// The vm has no kernel object to hand to cilium/ebpf: a clear error.
func TestEBPFOnVM(t *testing.T) {
	coll := load(t, specOf(t, "examples/list.bpf.o"), bpfarena.VM)
	if _, err := coll.Program("build").EBPF(); !errors.Is(err, bpfarena.ErrNotSupported) {
		t.Fatalf("EBPF on the vm: %v, want ErrNotSupported", err)
	}
}

// mountTracefs mounts tracefs at its usual place when no tracing
// filesystem is mounted (minimal systems and containers often lack it) and
// the process may mount.
func mountTracefs(t *testing.T) {
	for _, p := range []string{"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"} {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	if err := unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		t.Logf("mounting tracefs: %v", err)
	}
}
