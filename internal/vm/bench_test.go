package vm

import (
	"path/filepath"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

// xorshiftProg runs n rounds of xorshift64 (13, 7, 17): 11 instructions a
// round.
func xorshiftProg(n int64) []asm.Instruction {
	return []asm.Instruction{
		ldImm64(0, 88172645463325252),
		mov64K(2, n),
		mov64X(1, 0), alu64K(bpfLsh, 1, 13), alu64X(bpfXor, 0, 1),
		mov64X(1, 0), alu64K(bpfRsh, 1, 7), alu64X(bpfXor, 0, 1),
		mov64X(1, 0), alu64K(bpfLsh, 1, 17), alu64X(bpfXor, 0, 1),
		alu64K(bpfSub, 2, 1), jmpK(bpfJne, 2, 0, -10),
		exit(),
	}
}

func BenchmarkInterpreter(b *testing.B) {
	const rounds = 100000
	c := mustLoad(b, &object.Spec{Programs: []*object.ProgramSpec{progSpec("p", xorshiftProg(rounds))}})
	p := c.progs["p"]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Run(engine.RunOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(rounds*11+3), "ns/insn")
}

func BenchmarkArenaAllocFree(b *testing.B) {
	a := newTestArena(b, 32, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := a.allocPages(0, 1, 0)
		if p == 0 {
			b.Fatal("alloc failed")
		}
		a.freePages(p, 1)
	}
}

func BenchmarkArenaLoadStore(b *testing.B) {
	// 1000 rounds of an arena store and load (5 instructions a round).
	c := arenaProg(b, 1, 0, []asm.Instruction{mov64K(0, 0), exit()})
	start := c.arena.start
	c.Close()
	c = arenaProgAt(b, start, []asm.Instruction{
		ldImm64(1, uint64(uint32(start))),
		mov64K(2, 1000),
		stx(bpfDW, 1, 2, 8),  // 2
		ldx(bpfDW, 3, 1, 8),  // 3
		alu64X(bpfAdd, 0, 3), // 4
		alu64K(bpfSub, 2, 1),
		jmpK(bpfJne, 2, 0, -5),
		exit(),
	}, 2, 3)
	c.arena.allocPages(0, 1, 0)
	p := c.progs["p"]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Run(engine.RunOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/round")
}

// BenchmarkExamples runs the benchmark object's programs, the figures
// SEMANTICS.md gives for the kernel JIT.
func BenchmarkExamples(b *testing.B) {
	spec, err := object.Load(filepath.Join("..", "..", "bpf", "examples", "bench.bpf.o"))
	if err != nil {
		b.Skip(err)
	}
	c, err := load(spec, engine.Options{})
	if err != nil {
		b.Skip(err)
	}
	defer c.Close()
	for _, name := range []string{"xorshift", "htab_bench", "alloc_free"} {
		p, ok := c.progs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := p.Run(engine.RunOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
