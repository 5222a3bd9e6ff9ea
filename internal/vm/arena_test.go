package vm

import (
	"errors"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

func newTestArena(t testing.TB, pages uint32, flags uint32) *vmArena {
	t.Helper()
	a, err := newArena(arenaSpec(pages, flags, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.unmap)
	return a
}

func TestArenaPlacement(t *testing.T) {
	for _, pages := range []uint32{1, 100, 1 << 20} {
		a := newTestArena(t, pages, 0)
		if a.start>>32 != (a.start+a.size-1)>>32 {
			t.Errorf("%d pages at %#x straddle a 4 GiB boundary", pages, a.start)
		}
		if a.start%pageSize != 0 {
			t.Errorf("start %#x not page aligned", a.start)
		}
	}
	// map_extra: exact placement, and a second arena cannot take it.
	const extra = 1 << 44
	a, err := newArena(arenaSpec(16, 0, extra), nil)
	if err != nil {
		t.Fatalf("map_extra: %v", err)
	}
	defer a.unmap()
	if a.start != extra {
		t.Fatalf("start %#x, want %#x", a.start, uint64(extra))
	}
	if _, err := newArena(arenaSpec(16, 0, extra), nil); err == nil {
		t.Fatal("second arena at the same map_extra succeeded")
	}
}

func TestArenaCreateErrors(t *testing.T) {
	tests := []struct {
		name string
		spec *object.MapSpec
		want error
	}{
		{"no mmapable", &object.MapSpec{Type: object.Arena, MaxEntries: 1}, syscall.EINVAL},
		{"zero pages", arenaSpec(0, 0, 0), syscall.EINVAL},
		{"key size", &object.MapSpec{Type: object.Arena, MaxEntries: 1, KeySize: 4, Flags: object.FlagMmapable}, syscall.EINVAL},
		{"bad flag", arenaSpec(1, 1<<3, 0), syscall.EINVAL},
		{"unaligned map_extra", arenaSpec(1, 0, 1<<44+1), syscall.EINVAL},
		{"too big", arenaSpec(1<<20+1, 0, 0), syscall.E2BIG},
		{"crosses 4 GiB", arenaSpec(2, 0, 1<<32-pageSize), syscall.ERANGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := newArena(tt.spec, nil)
			if err == nil {
				a.unmap()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestArenaAlloc(t *testing.T) {
	a := newTestArena(t, 8, 0)
	pg := func(i uint32) uint64 { return a.userAddr(i) }
	steps := []struct {
		name  string
		addr  uint64
		cnt   uint32
		flags uint64
		want  uint64 // 0: NULL
	}{
		{"flags", 0, 1, 1, 0},
		{"zero pages", 0, 0, 0, 0},
		{"more than the arena", 0, 9, 0, 0},
		{"unaligned", pg(1) + 8, 1, 0, 0},
		{"past the end", pg(7), 2, 0, 0},
		{"first fit", 0, 2, 0, pg(0)},
		{"exact", pg(5), 1, 0, pg(5)},
		{"exact on allocated", pg(1), 1, 0, 0},
		{"first fit skips", 0, 3, 0, pg(2)},
		{"no room for 2", 0, 2, 0, pg(6)},
		{"full", 0, 1, 0, 0},
		{"only low 32 bits count", pg(6) + 1<<40, 1, 0, 0},
	}
	for _, s := range steps {
		if got := a.allocPages(s.addr, s.cnt, s.flags); got != s.want {
			t.Errorf("%s: alloc(%#x, %d) = %#x, want %#x", s.name, s.addr, s.cnt, got, s.want)
		}
	}
	if n := a.presentPages(); n != 8 {
		t.Errorf("present %d, want 8", n)
	}
}

func TestArenaFreeAndReserve(t *testing.T) {
	a := newTestArena(t, 8, 0)
	pg := func(i uint32) uint64 { return a.userAddr(i) }
	if p := a.allocPages(0, 4, 0); p != pg(0) {
		t.Fatalf("alloc = %#x", p)
	}
	a.mem[0] = 7
	a.mem[3*pageSize] = 9
	// Nothing happens for 0 or a 0 count.
	a.freePages(0, 4)
	a.freePages(pg(0), 0)
	if !a.Present(0) {
		t.Fatal("free of NULL or 0 pages freed")
	}
	// High bits do not matter; the address is rounded down.
	a.freePages(pg(0)^(1<<40)+100, 1)
	if a.Present(0) || !a.Present(1) {
		t.Fatal("free with foreign high bits / unaligned did not free exactly page 0")
	}
	// Clipped at the end.
	a.freePages(pg(3), 100)
	if a.Present(3) {
		t.Fatal("clipped free did not free page 3")
	}
	// Freed pages come back zeroed.
	if p := a.allocPages(pg(3), 1, 0); p != pg(3) || a.mem[3*pageSize] != 0 {
		t.Fatalf("realloc = %#x, byte %d", p, a.mem[3*pageSize])
	}
	if a.mem[0] != 0 {
		t.Fatal("freed page still holds data")
	}

	// Reserve.
	tests := []struct {
		name string
		addr uint64
		cnt  uint32
		want int64
	}{
		{"zero count", 0, 0, 0},
		{"unaligned does nothing", pg(4) + 1, 1, 0},
		{"NULL", 0, 1, -int64(eINVAL)},
		{"outside", pg(7), 2, -int64(eINVAL)},
		{"busy", pg(3), 1, -int64(eBUSY)},
		{"ok", pg(4), 2, 0},
		{"busy reserved", pg(5), 1, -int64(eBUSY)},
	}
	for _, tt := range tests {
		if got := a.reservePages(tt.addr, tt.cnt); got != tt.want {
			t.Errorf("%s: reserve = %d, want %d", tt.name, got, tt.want)
		}
	}
	if a.state[4] != pageReserved || a.state[6] != pageAbsent {
		t.Fatal("reserve marked the wrong pages")
	}
	// Alloc skips reserved pages; exact placement on them fails.
	if p := a.allocPages(pg(4), 1, 0); p != 0 {
		t.Fatal("alloc on a reserved page succeeded")
	}
	if p := a.allocPages(0, 2, 0); p != pg(6) {
		t.Fatalf("first fit over reserved = %#x, want %#x", p, pg(6))
	}
	// Free releases reservations.
	a.freePages(pg(4), 1)
	if p := a.allocPages(pg(4), 1, 0); p != pg(4) {
		t.Fatal("free did not release the reservation")
	}
}

func TestArenaBackend(t *testing.T) {
	spec := arenaSpec(4, 0, 0)
	spec.Contents = []byte{1, 2, 3}
	c := mustLoad(t, &object.Spec{Maps: []*object.MapSpec{spec}})
	ar := c.Arena()
	if ar.PresentPages() != 1 || !ar.Present(ar.Start()) {
		t.Fatalf("globals image: %d pages present", ar.PresentPages())
	}
	b, err := ar.Bytes(ar.Start(), 3)
	if err != nil || b[2] != 3 {
		t.Fatalf("globals image: %v %v", b, err)
	}
	// A Go access faults an absent page in, and a reserved one.
	if err := ar.Reserve(ar.Start()+2*pageSize, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := ar.Bytes(ar.Start()+pageSize, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := ar.Bytes(ar.Start()+2*pageSize, 8); err != nil {
		t.Fatal(err)
	}
	if ar.PresentPages() != 3 {
		t.Fatalf("present %d, want 3", ar.PresentPages())
	}
	// Touched pages are never handed out by Alloc.
	p, err := ar.Alloc(1)
	if err != nil || p != ar.Start()+3*pageSize {
		t.Fatalf("alloc = %#x, %v", p, err)
	}
	if _, err := ar.Alloc(1); !errors.Is(err, arena.ErrNoMemory) {
		t.Fatalf("alloc on a full arena: %v", err)
	}
	if err := ar.Reserve(p, 1); !errors.Is(err, arena.ErrBusy) {
		t.Fatalf("reserve of an allocated page: %v", err)
	}
	if err := ar.Free(p, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := ar.AllocAt(p, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := ar.AllocAt(p, 1); !errors.Is(err, arena.ErrBusy) {
		t.Fatalf("alloc at an allocated page: %v, want ErrBusy", err)
	}
	if _, err := ar.AllocAt(p, 2); !errors.Is(err, arena.ErrInvalid) {
		t.Fatalf("alloc at the last page of two pages: %v, want ErrInvalid", err)
	}

	// BPF_F_SEGV_ON_FAULT: Go accesses to absent pages fail.
	c2 := mustLoad(t, &object.Spec{Maps: []*object.MapSpec{arenaSpec(2, object.FlagSegvOnFault, 0)}})
	if _, err := c2.Arena().Bytes(c2.Arena().Start(), 1); err == nil {
		t.Fatal("touch with SEGV_ON_FAULT succeeded")
	}
	m, _ := c2.Map("arena")
	if _, err := m.Lookup(nil); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("lookup on the arena: %v", err)
	}
	if err := m.Update(nil, nil, 0); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Fatalf("update on the arena: %v", err)
	}
}

// arenaProg loads a program with an arena of pages pages; accesses lists
// the arena access indices.
func arenaProg(t testing.TB, pages uint32, flags uint32, insns []asm.Instruction, accesses ...int) *Collection {
	t.Helper()
	return arenaProgKernel(t, model618, pages, flags, insns, accesses...)
}

// arenaProgKernel is arenaProg on the vm modelling kernel k.
func arenaProgKernel(t testing.TB, k *kversion.Model, pages uint32, flags uint32, insns []asm.Instruction, accesses ...int) *Collection {
	t.Helper()
	am := arenaSpec(pages, flags, 0)
	ps := progSpec("p", insns, accesses...)
	for i, in := range insns {
		if in.OpCode == 0x85 && in.Src == asm.PseudoKfuncCall {
			ps.Relocations[i] = object.Relocation{Kind: object.RelocKfunc, Extern: &object.ExternSpec{Name: kfuncNames[in.Constant], Kind: object.ExternKfunc}}
		}
		if in.OpCode == 0x18 && in.Src == asm.PseudoMapFD {
			ps.Relocations[i] = object.Relocation{Kind: object.RelocMap, Map: am}
		}
		if in.OpCode == 0x18 && in.Src == asm.PseudoMapValue {
			ps.Relocations[i] = object.Relocation{Kind: object.RelocMapValue, Map: am, Offset: uint32(uint64(in.Constant) >> 32)}
		}
	}
	return mustLoadKernel(t, &object.Spec{Maps: []*object.MapSpec{am}, Programs: []*object.ProgramSpec{ps}}, k)
}

// arenaProgALU loads a one-page arena program whose 64-bit ALU
// instructions at alu are marked as operating on an arena pointer.
func arenaProgALU(t testing.TB, insns []asm.Instruction, alu []int) *Collection {
	t.Helper()
	am := arenaSpec(1, 0, 0)
	ps := progSpec("p", insns)
	for i, in := range insns {
		if in.OpCode == 0x18 && in.Src == asm.PseudoMapFD {
			// The static pass wants the program to use the arena.
			ps.Relocations[i] = object.Relocation{Kind: object.RelocMap, Map: am}
		}
	}
	if alu != nil {
		testALU32.Store(ps, alu)
	}
	return mustLoad(t, &object.Spec{Maps: []*object.MapSpec{am}, Programs: []*object.ProgramSpec{ps}})
}

var kfuncNames = map[int64]string{1: "bpf_arena_alloc_pages", 2: "bpf_arena_free_pages", 3: "bpf_arena_reserve_pages"}

func kfunc(n int64) asm.Instruction { return raw(0x85, 0, 2, 0, n) }
func ldMap(dst uint8) asm.Instruction {
	return raw(0x18, dst, uint8(asm.PseudoMapFD), 0, 0)
}

func TestArenaAccess(t *testing.T) {
	// Page 0 is allocated before each run; page 1 is absent.
	type tc struct {
		name   string
		insns  func(a *vmArena) []asm.Instruction
		arena  []int
		want   uint64
		faults []engine.Fault
	}
	lo := func(a *vmArena, off uint64) uint64 { return uint64(uint32(a.start + off)) }
	tests := []tc{
		{"store and load", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, lo(a, 8)), st(bpfDW, 1, 0, 42), ldx(bpfDW, 0, 1, 0), exit()}
		}, []int{1, 2}, 42, nil},
		{"upper bits of the pointer are ignored", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, lo(a, 8)|0xabcd<<32), st(bpfW, 1, 0, 5), ldx(bpfW, 0, 1, 0), exit()}
		}, []int{1, 2}, 5, nil},
		{"load from absent page gives 0", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, lo(a, pageSize)), mov64K(0, 7), ldx(bpfDW, 0, 1, 16), exit()}
		}, []int{2}, 0, []engine.Fault{{Kind: engine.FaultRead, Insn: 3}}},
		{"store to absent page is skipped", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, lo(a, pageSize)), st(bpfDW, 1, 8, 1), mov64K(0, 3), exit()}
		}, []int{1}, 3, []engine.Fault{{Kind: engine.FaultWrite, Insn: 2}}},
		{"guard below", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, lo(a, 0)), mov64K(0, 7), ldx(bpfDW, 0, 1, -8), exit()}
		}, []int{2}, 0, []engine.Fault{{Kind: engine.FaultRead, Insn: 3}}},
		{"straddling the last page", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, lo(a, 2*pageSize-4)), mov64K(0, 7), ldx(bpfDW, 0, 1, 0), exit()}
		}, []int{2}, 0, []engine.Fault{{Kind: engine.FaultRead, Insn: 3}}},
		{"32-bit wrap does not come back", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, 0xffffffff), st(bpfB, 1, 1, 1), mov64K(0, 0), exit()}
		}, []int{1}, 0, []engine.Fault{{Kind: engine.FaultWrite, Insn: 2}}},
		{"atomic on arena", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, lo(a, 16)), st(bpfDW, 1, 0, 40), mov64K(2, 2), atomicOp(bpfDW, 1, 2, 0, atomicAdd|atomicFetch), ldx(bpfDW, 0, 1, 0), alu64X(bpfAdd, 0, 2), exit()}
		}, []int{1, 3, 4}, 82, nil},
		{"atomic on absent page", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, lo(a, pageSize)), mov64K(2, 2), atomicOp(bpfDW, 1, 2, 0, atomicAdd|atomicFetch), mov64X(0, 2), exit()}
		}, []int{2}, 2, []engine.Fault{{Kind: engine.FaultWrite, Insn: 3}}},
		{"cast to user", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, lo(a, 24)|0x77<<32), castUser(0, 1), exit()}
		}, nil, 0, nil},
		{"cast NULL to user", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, 0x5<<32), castUser(0, 1), exit()}
		}, nil, 0, nil},
		{"cast to arena", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldImm64(1, a.start+24), castArena(0, 1), exit()}
		}, nil, 0, nil},
		{"arena global address", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{raw(0x18, 0, uint8(asm.PseudoMapValue), 0, 40<<32), exit()}
		}, nil, 0, nil},
		{"alloc pages from BPF", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldMap(1), mov64K(2, 0), mov64K(3, 1), mov64K(4, -1), mov64K(5, 0), kfunc(1), exit()}
		}, nil, 0, nil},
		{"alloc on a NUMA node that is not online", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldMap(1), mov64K(2, 0), mov64K(3, 1), mov64K(4, 100000), mov64K(5, 0), kfunc(1), exit()}
		}, nil, 0, nil},
		{"alloc, store, free, load", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{
				ldMap(1), mov64K(2, 0), mov64K(3, 1), mov64K(4, -1), mov64K(5, 0), kfunc(1), // r0 = page
				mov64X(6, 0), castArena(7, 6), st(bpfDW, 7, 0, 99), ldx(bpfDW, 8, 7, 0), // r8 = 99
				ldMap(1), mov64X(2, 6), mov64K(3, 1), kfunc(2),
				ldx(bpfDW, 0, 7, 0), alu64X(bpfAdd, 0, 8), exit(), // 0 + 99
			}
		}, []int{8, 9, 14}, 99, []engine.Fault{{Kind: engine.FaultRead, Insn: 16}}},
		{"reserve from BPF", func(a *vmArena) []asm.Instruction {
			return []asm.Instruction{ldMap(1), ldImm64(2, a.start+pageSize), mov64K(3, 1), kfunc(3), exit()}
		}, nil, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Load once to learn where an arena goes, then place the
			// real one there so the program can embed its address.
			c := arenaProg(t, 2, 0, []asm.Instruction{mov64K(0, 0), exit()})
			start := c.arena.start
			c.Close()
			c = arenaProgAt(t, start, tt.insns(&vmArena{start: start}), tt.arena...)
			a := c.arena
			if a.allocPages(a.start, 1, 0) == 0 {
				t.Fatal("alloc of page 0 failed")
			}
			res, err := c.progs["p"].Run(engine.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			switch tt.name {
			case "cast to user":
				want = uint64(uint32(a.start+24)) | a.hi
			case "cast to arena":
				want = uint64(uint32(a.start + 24))
			case "arena global address":
				want = a.start + 40
			case "alloc pages from BPF":
				want = uint64(uint32(a.userAddr(1)))
			case "reserve from BPF":
				if a.state[1] != pageReserved {
					t.Error("page 1 not reserved")
				}
			}
			if uint64(res.Retval) != want&0xffffffff {
				t.Errorf("retval = %#x, want %#x", res.Retval, uint32(want))
			}
			if len(res.Faults) != len(tt.faults) {
				t.Fatalf("faults = %+v, want %+v", res.Faults, tt.faults)
			}
			for i, f := range res.Faults {
				w := tt.faults[i]
				if f.Kind != w.Kind || f.Insn != w.Insn || f.Program != "p" || f.Address>>32 != a.start>>32 {
					t.Errorf("fault %d = %+v, want kind %s insn %d", i, f, w.Kind, w.Insn)
				}
			}
		})
	}
}

// arenaProgAt is arenaProg with a 2-page arena at a fixed address.
func arenaProgAt(t testing.TB, at uint64, insns []asm.Instruction, accesses ...int) *Collection {
	t.Helper()
	return arenaProgAtN(t, 2, at, insns, accesses...)
}

// arenaProgAt64 is arenaProgAt with 64 pages.
func arenaProgAt64(t testing.TB, at uint64, insns []asm.Instruction, accesses ...int) *Collection {
	t.Helper()
	return arenaProgAtN(t, 64, at, insns, accesses...)
}

func arenaProgAtN(t testing.TB, pages uint32, at uint64, insns []asm.Instruction, accesses ...int) *Collection {
	t.Helper()
	am := arenaSpec(pages, 0, at)
	ps := progSpec("p", insns, accesses...)
	for i, in := range insns {
		if in.OpCode == 0x85 && in.Src == asm.PseudoKfuncCall {
			ps.Relocations[i] = object.Relocation{Kind: object.RelocKfunc, Extern: &object.ExternSpec{Name: kfuncNames[in.Constant], Kind: object.ExternKfunc}}
		}
		if in.OpCode == 0x18 && in.Src == asm.PseudoMapFD {
			ps.Relocations[i] = object.Relocation{Kind: object.RelocMap, Map: am}
		}
		if in.OpCode == 0x18 && in.Src == asm.PseudoMapValue {
			ps.Relocations[i] = object.Relocation{Kind: object.RelocMapValue, Map: am, Offset: uint32(uint64(in.Constant) >> 32)}
		}
	}
	return mustLoad(t, &object.Spec{Maps: []*object.MapSpec{am}, Programs: []*object.ProgramSpec{ps}})
}

func TestNoUserConv(t *testing.T) {
	c := arenaProg(t, 1, object.FlagNoUserConv, []asm.Instruction{ldImm64(1, 0x1234_0000_5000), castUser(0, 1), alu64K(bpfRsh, 0, 32), exit()})
	res, err := c.progs["p"].Run(engine.RunOptions{})
	if err != nil || res.Retval != 0 {
		t.Fatalf("retval %#x, err %v: NO_USER_CONV must keep only the low 32 bits", res.Retval, err)
	}
}

// TestArenaBestFit follows the kernel's range tree: an allocation without
// an address takes the smallest free range that fits and, among equal
// sizes, the one changed last; it is not a lowest-address first fit.
func TestArenaBestFit(t *testing.T) {
	a := newTestArena(t, 10, 0)
	pg := func(i uint32) uint64 { return a.userAddr(i) }
	for i := uint32(0); i < 10; i++ {
		if p := a.allocPages(0, 1, 0); p != pg(i) {
			t.Fatalf("alloc %d = %#x", i, p)
		}
	}
	a.freePages(pg(0), 3) // [0..2]
	a.freePages(pg(5), 1) // [5]
	a.freePages(pg(8), 1) // [8], the newest single page
	steps := []struct {
		cnt  uint32
		want uint64
	}{
		{1, pg(8)}, // smallest fit, most recent of the size-1 ranges
		{1, pg(5)},
		{1, pg(0)}, // [0..2] shrinks to [1..2]
		{2, pg(1)},
		{1, 0},
	}
	for i, s := range steps {
		if got := a.allocPages(0, s.cnt, 0); got != s.want {
			t.Fatalf("step %d: alloc(%d) = %#x, want %#x", i, s.cnt, got, s.want)
		}
	}
}

func TestRangeTree(t *testing.T) {
	var rt rangeTree
	rt.set(0, 16)
	rt.clear(4, 4) // [0..3] touched, then [8..15] new
	if s, _ := rt.find(4); s != 0 {
		t.Fatalf("find(4) = %d, want 0 (equal size? no: [0..3] is the smallest fit)", s)
	}
	if s, _ := rt.find(5); s != 8 {
		t.Fatalf("find(5) = %d, want 8", s)
	}
	rt.set(4, 4) // merges everything back
	if len(rt.nodes) != 1 || rt.nodes[0].start != 0 || rt.nodes[0].last != 15 {
		t.Fatalf("nodes %+v", rt.nodes)
	}
	if !rt.isSet(3, 10) || rt.isSet(15, 2) {
		t.Fatal("isSet")
	}
	rt.clear(2, 1)
	rt.clear(6, 1) // [0..1] [3..5] [7..15]
	rt.set(0, 10)  // partly free already: clears and re-merges
	if len(rt.nodes) != 1 || rt.nodes[0].last != 15 {
		t.Fatalf("nodes after set over a mixed range: %+v", rt.nodes)
	}
}

// TestArenaALU: 64-bit arithmetic on an arena pointer is done in 32 bits
// when the static pass says the register holds one.
func TestArenaALU(t *testing.T) {
	tests := []struct {
		name  string
		insns []asm.Instruction
		alu   []int // the instructions marked as arena ALU; nil: the static pass says
		want  uint64
	}{
		{"add wraps in 32 bits", []asm.Instruction{mov64K(0, 0x1000), castArena(0, 0), ldImm64(1, 1<<32), alu64X(bpfAdd, 0, 1), exit()}, []int{3}, 0x1000},
		{"sub wraps in 32 bits", []asm.Instruction{mov64K(0, 0x1000), castArena(0, 0), alu64K(bpfSub, 0, 0x2000), exit()}, []int{2}, 0xfffff000},
		{"unmarked stays 64-bit", []asm.Instruction{mov64K(0, 0x1000), alu64K(bpfSub, 0, 0x2000), exit()}, []int{}, 0xfffffffffffff000},
		{"add marked by the static pass", []asm.Instruction{ldMap(3), mov64K(0, 0x1000), castArena(0, 0), ldImm64(1, 1<<32), alu64X(bpfAdd, 0, 1), exit()}, nil, 0x1000},
		{"spilled pointer marked by the static pass", []asm.Instruction{ldMap(3), mov64K(0, 0x1000), castArena(0, 0), stx(bpfDW, 10, 0, -8), ldx(bpfDW, 2, 10, -8), alu64K(bpfSub, 2, 0x2000), mov64X(0, 2), exit()}, nil, 0xfffff000},
		{"scalar left 64-bit by the static pass", []asm.Instruction{ldMap(3), mov64K(0, 0x1000), alu64K(bpfSub, 0, 0x2000), exit()}, nil, 0xfffffffffffff000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := arenaProgALU(t, tt.insns, tt.alu)
			got, _, err := run64(c, "p")
			if err != nil || got != tt.want {
				t.Fatalf("r0 = %#x, %v; want %#x", got, err, tt.want)
			}
		})
	}
}

// TestRangeTreeModel checks the range tree against a plain bitmap under
// random set/clear sequences: the same pages are free, ranges stay sorted,
// disjoint and maximal, and find returns a start that fits.
func TestRangeTreeModel(t *testing.T) {
	const n = 64
	for seed := uint64(1); seed <= 200; seed++ {
		rng := seed
		next := func(k uint32) uint32 {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			return uint32(rng % uint64(k))
		}
		var rt rangeTree
		var free [n]bool
		rt.set(0, n)
		for i := range free {
			free[i] = true
		}
		for step := 0; step < 100; step++ {
			start := next(n)
			cnt := 1 + next(n-start)
			set := next(2) == 0
			if set {
				rt.set(start, cnt)
			} else {
				rt.clear(start, cnt)
			}
			for p := start; p < start+cnt; p++ {
				free[p] = set
			}
			for p := uint32(0); p < n; p++ {
				if rt.isSet(p, 1) != free[p] {
					t.Fatalf("seed %d step %d: page %d free=%v in tree, %v in model", seed, step, p, rt.isSet(p, 1), free[p])
				}
			}
			for i := 1; i < len(rt.nodes); i++ {
				if rt.nodes[i].start <= rt.nodes[i-1].last+1 {
					t.Fatalf("seed %d: ranges %+v and %+v overlap or touch", seed, rt.nodes[i-1], rt.nodes[i])
				}
			}
			want := 1 + next(8)
			if s, ok := rt.find(want); ok && !rt.isSet(s, want) {
				t.Fatalf("seed %d: find(%d) = %d does not fit", seed, want, s)
			}
		}
	}
}

func TestArenaALUIs32Bit(t *testing.T) {
	// smod and lsh on an arena pointer act on its low word as int32/u32.
	tests := []struct {
		name  string
		insns []asm.Instruction
		want  uint64
	}{
		{"smod", []asm.Instruction{ldImm64(0, 0xf0210000), castArena(0, 0), raw(0x97, 0, 0, 1, -5), exit()}, 0xfffffffd},
		{"lsh", []asm.Instruction{ldImm64(0, 0xf01d0000), castArena(0, 0), alu64K(bpfLsh, 0, 41), exit()}, (0xf01d0000 << 9) & 0xffffffff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := arenaProgALU(t, tt.insns, []int{2})
			got, _, err := run64(c, "p")
			if err != nil || got != tt.want {
				t.Fatalf("r0 = %#x, %v; want %#x", got, err, tt.want)
			}
		})
	}
}

func TestArenaStraddle(t *testing.T) {
	c := arenaProg(t, 2, 0, []asm.Instruction{mov64K(0, 0), exit()})
	start := c.arena.start
	c.Close()
	lo := uint64(uint32(start))
	c = arenaProgAt(t, start, []asm.Instruction{
		ldImm64(1, lo), st(bpfW, 1, 4094, -1), // 1: skipped, page 1 absent
		mov64K(3, 7), atomicOp(bpfW, 3, 1, 4094, atomicLoadAcq), // 3: faults, r3 stays 7
		ldx(bpfH, 0, 1, 4094), alu64X(bpfAdd, 0, 3), // 4: page 0 only: 0
		exit(),
	}, 1, 3, 4)
	c.arena.allocPages(start, 1, 0)
	res, err := c.progs["p"].Run(engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Retval != 7 || len(res.Faults) != 2 {
		t.Fatalf("retval %d, faults %+v", res.Retval, res.Faults)
	}
}

// TestArenaFreeBelowStart reproduces what the kernel does with a free whose
// pointer's low 32 bits lie below user_vm_start's: the range tree records a
// free range past the arena, and the next allocation that fits it best
// returns an address outside the arena.
func TestArenaFreeBelowStart(t *testing.T) {
	const start = 0x7000_0010_0000 // low 32 bits 0x100000
	a, err := newArena(arenaSpec(8, 0, start), nil)
	if err != nil {
		t.Skipf("map at %#x: %v", uint64(start), err)
	}
	defer a.unmap()
	a.kernel = model618 // 6.12 and 7.3 ignore such a free
	if p := a.allocPages(0, 2, 0); p != start {
		t.Fatalf("alloc = %#x", p)
	}
	a.freePages(a.hi+0x2000, 2)
	if !a.Present(0) || !a.Present(1) {
		t.Fatal("a free below the arena freed arena pages")
	}
	if p := a.allocPages(0, 2, 0); p != a.hi+0x2000 {
		t.Fatalf("alloc after the odd free = %#x, want %#x", p, a.hi+0x2000)
	}
	if a.presentPages() != 2 {
		t.Fatalf("present %d", a.presentPages())
	}
	c := &Collection{arena: a}
	m := newMachine(c)
	m.p = &program{name: "p"}
	m.arenaStoreMiss(0x2000, 8, 8, 99, 0)
	if v := m.arenaLoadMiss(0x2008, 0, 8, 0); v != 99 || len(m.faults) != 0 {
		t.Fatalf("load from the page outside the arena = %d, faults %v", v, m.faults)
	}
	// BPF reaches the pages the kernel mapped there; Go cannot.
	if b, ok := a.extraAt(0x2000, 8, 8); !ok || len(b) != 8 {
		t.Fatal("no page behind the address the allocation returned")
	}
	if _, ok := a.extraAt(0x4000, 0, 1); ok {
		t.Fatal("a page past the allocation")
	}
	if _, ok := a.extraAt(0x2000, -8, 8); ok {
		t.Fatal("a page below the allocation")
	}
	a.freePages(a.hi+0x2000, 2)
	if _, ok := a.extraAt(0x2000, 0, 8); ok {
		t.Fatal("free left the page outside the arena")
	}
	// A free starting below the arena and reaching into it unmaps the
	// pages inside, without making them allocatable.
	a.freePages(a.hi+0x100000-pageSize, 2)
	if a.Present(0) || !a.Present(1) {
		t.Fatal("overlapping free")
	}
	if p := a.allocPages(start, 1, 0); p != 0 {
		t.Fatal("page 0 became allocatable")
	}
}

// TestArenaCmpxchg32 pins a measured kernel behaviour: a successful 32-bit
// cmpxchg on arena memory keeps r0's upper half; on the stack it does not.
func TestArenaCmpxchg32(t *testing.T) {
	c := arenaProg(t, 1, 0, []asm.Instruction{mov64K(0, 0), exit()})
	start := c.arena.start
	c.Close()
	prog := func(base uint8, arena bool) []asm.Instruction {
		return []asm.Instruction{
			ldImm64(6, uint64(uint32(start))), st(bpfDW, 10, -8, 0),
			ldImm64(0, 0xffffffff00000000), mov64K(4, 0),
			atomicOp(bpfW, base, 4, map[bool]int16{true: 0, false: -8}[arena], atomicCmpXchg), // 4
			alu64K(bpfRsh, 0, 32), exit(),
		}
	}
	for _, tt := range []struct {
		name  string
		arena bool
		want  uint32
	}{{"arena keeps r0", true, 0xffffffff}, {"stack zero-extends", false, 0}} {
		base := uint8(10)
		var acc []int
		if tt.arena {
			base, acc = 6, []int{4}
		}
		c := arenaProgAt(t, start, prog(base, tt.arena), acc...)
		c.arena.allocPages(start, 1, 0)
		res, err := c.progs["p"].Run(engine.RunOptions{})
		if err != nil || res.Retval != tt.want {
			t.Errorf("%s: retval %#x, %v; want %#x", tt.name, res.Retval, err, tt.want)
		}
		c.Close()
	}
}

// TestReserveNULL: NULL is no special case for bpf_arena_reserve_pages
// (measured): with a start whose low 32 bits are 0 it is page 0.
func TestReserveNULL(t *testing.T) {
	a, err := newArena(arenaSpec(4, 0, 0x1001_0000_0000), nil)
	if err != nil {
		t.Skip(err)
	}
	defer a.unmap()
	if got := a.reservePages(0, 1); got != 0 {
		t.Fatalf("reserve(NULL) = %d, want 0", got)
	}
	if got := a.reservePages(0, 1); got != -int64(eBUSY) {
		t.Fatalf("second reserve(NULL) = %d, want -EBUSY", got)
	}
}
