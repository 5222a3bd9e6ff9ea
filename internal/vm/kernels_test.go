package vm

import (
	"testing"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/object"
)

func mustModel(t testing.TB, name string) *kversion.Model {
	t.Helper()
	m, err := kversion.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A fetching atomic that faults on an absent arena page keeps its load
// register up to 6.18 and zeroes it on 7.3 (the x86 JIT's fault fixup
// clears it there, as for a plain load).
func TestKernelFaultedFetch(t *testing.T) {
	tests := []struct {
		name string
		prog func() []asm.Instruction
	}{
		{"fetch add", func() []asm.Instruction {
			return []asm.Instruction{ldImm64(1, pageSize), mov64K(2, 2), atomicOp(bpfDW, 1, 2, 0, atomicAdd|atomicFetch), mov64X(0, 2), exit()}
		}},
		{"xchg", func() []asm.Instruction {
			return []asm.Instruction{ldImm64(1, pageSize), mov64K(2, 2), atomicOp(bpfDW, 1, 2, 0, atomicXchg), mov64X(0, 2), exit()}
		}},
		{"cmpxchg", func() []asm.Instruction {
			return []asm.Instruction{ldImm64(1, pageSize), mov64K(2, 5), mov64K(0, 2), atomicOp(bpfDW, 1, 2, 0, atomicCmpXchg), exit()}
		}},
		{"load-acquire", func() []asm.Instruction {
			return []asm.Instruction{ldImm64(1, pageSize), mov64K(0, 2), atomicOp(bpfDW, 0, 1, 0, atomicLoadAcq), exit()}
		}},
	}
	for _, k := range []struct {
		name string
		want uint32
	}{{"6.12", 2}, {"6.18", 2}, {"7.3", 0}} {
		for _, tt := range tests {
			if k.name == "6.12" && tt.name == "load-acquire" {
				continue // no load-acquire before 6.15
			}
			t.Run(k.name+"/"+tt.name, func(t *testing.T) {
				acc := 2
				if tt.name == "cmpxchg" {
					acc = 3
				}
				// An arena starting on a 4 GiB boundary: its (u32)
				// addresses are offsets.
				am := arenaSpec(2, 0, 0x6100_0000_0000)
				ps := progSpec("p", tt.prog(), acc)
				c, err := load(&object.Spec{Maps: []*object.MapSpec{am}, Programs: []*object.ProgramSpec{ps}}, engine.Options{Kernel: mustModel(t, k.name)})
				if err != nil {
					t.Skipf("arena at a fixed address: %v", err)
				}
				defer c.Close()
				res, err := c.progs["p"].Run(engine.RunOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if res.Retval != k.want || len(res.Faults) != 1 {
					t.Fatalf("retval %d, faults %+v; want %d and one fault", res.Retval, res.Faults, k.want)
				}
			})
		}
	}
}

// Where an allocation without an address goes: the lowest free range
// that fits on 6.12 (maple tree), the smallest on 6.18 and 7.3 (range
// tree). Pages 1-4 and 6-7 are free; one page goes to 1, or to 6.
func TestKernelAllocOrder(t *testing.T) {
	for _, tt := range []struct {
		kernel string
		want   uint32
	}{{"6.12", 1}, {"6.18", 6}, {"7.3", 6}} {
		t.Run(tt.kernel, func(t *testing.T) {
			a, err := newArena(arenaSpec(8, 0, 0), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.unmap()
			a.kernel = mustModel(t, tt.kernel)
			if p := a.allocPages(0, 8, 0); p == 0 {
				t.Fatal("alloc of the whole arena failed")
			}
			a.freePages(a.userAddr(1), 4)
			a.freePages(a.userAddr(6), 2)
			p := a.allocPages(0, 1, 0)
			if got := uint32((p - a.userAddr(0)) / arena.PageSize); p == 0 || got != tt.want {
				t.Fatalf("page %d (addr %#x), want %d", got, p, tt.want)
			}
		})
	}
}
