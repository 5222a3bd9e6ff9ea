package vm

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
)

// TestConcurrentRuns runs an arena-atomic program from several goroutines
// at once; no increment may be lost. Run with -race.
func TestConcurrentRuns(t *testing.T) {
	const loops, workers, runs = 500, 4, 10
	c := arenaProg(t, 4, 0, []asm.Instruction{mov64K(0, 0), exit()})
	start := c.arena.start
	c.Close()
	c = arenaProgAt(t, start, []asm.Instruction{
		ldImm64(1, uint64(uint32(start))),
		mov64K(2, 1),
		mov64K(3, loops),
		atomicOp(bpfDW, 1, 2, 0, atomicAdd), // 3
		atomicOp(bpfW, 1, 2, 8, atomicAdd),  // 4
		alu64K(bpfSub, 3, 1),
		jmpK(bpfJne, 3, 0, -4),
		mov64K(0, 0),
		exit(),
	}, 3, 4)
	if c.arena.allocPages(0, 1, 0) == 0 {
		t.Fatal("alloc")
	}
	p, _ := c.Program("p")
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(cpu uint32) {
			defer wg.Done()
			for i := 0; i < runs; i++ {
				if _, err := p.Run(engine.RunOptions{CPU: cpu}); err != nil {
					t.Error(err)
					return
				}
			}
		}(uint32(w))
	}
	wg.Wait()
	b, err := c.Arena().Bytes(start, 12)
	if err != nil {
		t.Fatal(err)
	}
	got64 := le64(b)
	got32 := uint64(le64(b[8:]) & 0xffffffff)
	if want := uint64(loops * workers * runs); got64 != want || got32 != want {
		t.Fatalf("counters = %d, %d, want %d", got64, got32, want)
	}
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]) << (8 * i)
	}
	return v
}

// TestConcurrentPageOps runs BPF page allocations and Go-side Alloc/Free
// at once: both go through one lock, so no page is handed out twice.
func TestConcurrentPageOps(t *testing.T) {
	c := arenaProg(t, 64, 0, []asm.Instruction{mov64K(0, 0), exit()})
	start := c.arena.start
	c.Close()
	// alloc one page, write 1 to it, read it back, free it; return what
	// was read (1) or 2 when the allocation failed.
	c = arenaProgAt64(t, start, []asm.Instruction{
		ldMap(1), mov64K(2, 0), mov64K(3, 1), mov64K(4, -1), mov64K(5, 0), kfunc(1), // 0-5
		jmpK(bpfJne, 0, 0, 2), mov64K(0, 2), exit(), // 6-8
		mov64X(6, 0), castArena(7, 6), st(bpfDW, 7, 0, 1), ldx(bpfDW, 8, 7, 0), // 9-12
		ldMap(1), mov64X(2, 6), mov64K(3, 1), kfunc(2), // 13-16
		mov64X(0, 8), exit(),
	}, 11, 12)
	p, _ := c.Program("p")
	a := c.Arena()
	var wg sync.WaitGroup
	var ok atomic.Int64
	for w := 0; w < 2; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				res, err := p.Run(engine.RunOptions{})
				if err != nil || (res.Retval != 1 && res.Retval != 2) {
					t.Errorf("run: %d %v", res.Retval, err)
					return
				}
				if res.Retval == 1 {
					ok.Add(1)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				addr, err := a.Alloc(2)
				if err != nil {
					continue
				}
				b, _ := a.Bytes(addr, 8)
				b[0] = 7
				if err := a.Free(addr, 2); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() == 0 {
		t.Fatal("no run allocated a page")
	}
	if n := a.PresentPages(); n != 0 {
		t.Fatalf("%d pages left present", n)
	}
}
