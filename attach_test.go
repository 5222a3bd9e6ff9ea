//go:build linux

package bpfarena_test

import (
	"encoding/binary"
	"errors"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"os"
	"testing"
	"time"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/arena"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
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
		testenv.SkipKernel(t, err)
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
	// The Go runtime calls getpid itself to signal its threads (async
	// preemption), more often on a slow machine: a few more are fine.
	if got := calls.Get() - before; got < n || got > n+50 {
		t.Fatalf("counted %d getpid calls, want %d (and a few of the runtime's)", got, n)
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

type event struct {
	Self   arena.Ptr[event]
	Seq    uint64
	Square uint64
}

// A ring buffer read with cilium/ebpf/ringbuf carries arena addresses that
// Go follows in its own mapping of the arena.
func TestRingbufArenaPointers(t *testing.T) {
	coll, err := bpfarena.Load(specOf(t, "examples/events.bpf.o"), bpfarena.Options{Engine: bpfarena.Kernel})
	if errors.Is(err, bpfarena.ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	m, err := coll.Map("events")
	if err != nil {
		t.Fatal(err)
	}
	em, err := m.EBPF()
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	rd, err := ringbuf.NewReader(em)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()

	const n = 5
	for i := 1; i <= n; i++ {
		if got := run(t, coll, "emit"); got != uint32(i) {
			t.Fatalf("emit returned %d, want %d", got, i)
		}
	}
	a := coll.Arena()
	rd.SetDeadline(time.Now().Add(5 * time.Second))
	for i := uint64(1); i <= n; i++ {
		rec, err := rd.Read()
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.RawSample) != 16 {
			t.Fatalf("record of %d bytes", len(rec.RawSample))
		}
		addr := binary.LittleEndian.Uint64(rec.RawSample)
		seq := binary.LittleEndian.Uint64(rec.RawSample[8:])
		e := arena.Ptr[event](addr).Deref(a)
		if e == nil || seq != i || e.Seq != i || e.Square != i*i || e.Self.Addr() != addr {
			t.Fatalf("record %d: addr %#x seq %d -> %+v", i, addr, seq, e)
		}
	}
}
