package vm

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

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

// reportPer reports wall and CPU nanoseconds per unit of work.
func reportPer(b *testing.B, cpu0 time.Duration, units float64, unit string) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/units, "ns/"+unit)
	if cpu := cpuTime() - cpu0; cpu0 > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/units, "cpu-ns/"+unit)
	}
}

func BenchmarkInterpreter(b *testing.B) {
	const rounds = 100000
	c := mustLoad(b, &object.Spec{Programs: []*object.ProgramSpec{progSpec("p", xorshiftProg(rounds))}})
	p := c.progs["p"]
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := p.Run(engine.RunOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportPer(b, cpu0, rounds*11+3, "insn")
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

// BenchmarkHelperCall: a loop of helper calls (bpf_get_smp_processor_id,
// which does nothing but return a field), 4 instructions and one call a
// round; ns/call is the round's time.
func BenchmarkHelperCall(b *testing.B) {
	const rounds = 100000
	c := mustLoad(b, &object.Spec{Programs: []*object.ProgramSpec{progSpec("p", []asm.Instruction{
		mov64K(6, rounds),
		call(helperSmpProcessor),
		alu64K(bpfSub, 6, 1),
		jmpK(bpfJne, 6, 0, -3),
		exit(),
	})}})
	p := c.progs["p"]
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := p.Run(engine.RunOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportPer(b, cpu0, rounds, "call")
}

func BenchmarkArenaChurn16(b *testing.B) {
	a := newTestArena(b, 64, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := a.allocPages(0, 16, 0)
		if p == 0 {
			b.Fatal("alloc failed")
		}
		a.freePages(p, 16)
	}
}

// rss is the process's resident set in bytes.
func rss(b *testing.B) int64 {
	buf, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Skip(err)
	}
	f := strings.Fields(string(buf))
	n, _ := strconv.ParseInt(f[1], 10, 64)
	return n * int64(os.Getpagesize())
}

// BenchmarkArenaMemory reports what an arena costs: resident bytes of an
// untouched 4 GiB arena, and resident plus heap bytes per allocated page.
func BenchmarkArenaMemory(b *testing.B) {
	const pages = 1 << 20 // 4 GiB
	const used = 1024
	var untouched, perPage float64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		r0 := rss(b)
		a, err := newArena(arenaSpec(pages, 0, 0), nil)
		if err != nil {
			b.Skip(err)
		}
		r1 := rss(b)
		for k := 0; k < used; k++ {
			if a.allocPages(0, 1, 0) == 0 {
				b.Fatal("alloc failed")
			}
		}
		r2 := rss(b)
		runtime.ReadMemStats(&ms1)
		untouched += float64(r1 - r0)
		perPage += (float64(r2-r1) + float64(ms1.HeapAlloc) - float64(ms0.HeapAlloc)) / used
		a.unmap()
	}
	b.ReportMetric(untouched/float64(b.N), "rss-bytes/4GiB-arena")
	b.ReportMetric(perPage/float64(b.N), "bytes/page")
}

// benchPrograms are the bench object's programs with the unit each run
// repeats, for a per-unit figure.
var benchPrograms = []struct {
	name  string
	units float64
	unit  string
}{
	{"xorshift", 1000000, "round"},
	{"kfunc_loop", 1000000, "call"},
	{"arena_rw", 100000, "round"},
	{"htab_bench", 2000, "op-key"},
	{"htab_big", 200000, "op-key"},
	{"list_walk", 10000, "node"},
	{"alloc_free", 1000, "pair"},
	{"churn16", 1000, "pair"},
}

// BenchmarkExamples runs the benchmark object's programs (the figures
// SEMANTICS.md gives for the kernel JIT for some of them).
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
	for _, bp := range benchPrograms {
		p, ok := c.progs[bp.name]
		if !ok {
			continue
		}
		// A first run builds what a program keeps between runs.
		if _, err := p.Run(engine.RunOptions{}); err != nil {
			b.Fatal(err)
		}
		b.Run(bp.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := p.Run(engine.RunOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			reportPer(b, cpu0, bp.units, bp.unit)
		})
	}
}

// BenchmarkLoadBench measures loading the benchmark object: parsing is
// outside, the static pass, decoding and map creation inside.
func BenchmarkLoadBench(b *testing.B) {
	spec, err := object.Load(filepath.Join("..", "..", "bpf", "examples", "bench.bpf.o"))
	if err != nil {
		b.Skip(err)
	}
	for i := 0; i < b.N; i++ {
		c, err := load(spec, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
