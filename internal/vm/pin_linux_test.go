package vm

import (
	"os/exec"
	"sync/atomic"
	"testing"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) uint32 {
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Skip(err)
	}
	return uint32(c.Process.Pid)
}

// A process that died holding the shared lock, in the middle of a free
// (page states changed, tree not committed), is replaced by the next one,
// which finishes the free; one that died after committing is not redone.
func TestPinnedLockRecovery(t *testing.T) {
	spec, err := object.Load("../../bpf/examples/bench.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	c, err := load(spec, engine.Options{PinPath: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := c.arena
	p, err := a.Alloc(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	pg := (p - a.start) >> pageShift
	// The dead process's free got as far as the page state.
	sh := a.sh
	atomic.StoreUint32(&a.state[pg], pageAbsent)
	sh.hdr.jAddr, sh.hdr.jCount, sh.hdr.jGen = p, 1, atomic.LoadUint64(&sh.hdr.gen)
	atomic.StoreUint32(&sh.hdr.jOp, opFree)
	atomic.StoreUint32(&sh.hdr.lock, deadPID(t))
	q, err := a.Alloc(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if q != p {
		t.Errorf("after recovery the freed page %#x should be reused first, got %#x", p, q)
	}
	if atomic.LoadUint32(&sh.hdr.lock) != 0 || atomic.LoadUint32(&sh.hdr.jOp) != opNone {
		t.Error("lock or journal left set")
	}
	// Committed before dying: the journal is stale and must not run.
	sh.hdr.jAddr, sh.hdr.jCount, sh.hdr.jGen = 0, 1, atomic.LoadUint64(&sh.hdr.gen)-1
	atomic.StoreUint32(&sh.hdr.jOp, opAlloc)
	atomic.StoreUint32(&sh.hdr.lock, deadPID(t))
	before := a.presentPages()
	if err := a.Free(q, 1); err != nil {
		t.Fatal(err)
	}
	if got := a.presentPages(); got != before-1 {
		t.Errorf("present pages %d, want %d: a committed allocation was redone", got, before-1)
	}
}
