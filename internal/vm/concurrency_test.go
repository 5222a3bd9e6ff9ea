package vm

import (
	"sync"
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
