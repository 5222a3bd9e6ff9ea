//go:build linux

package kernel

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"os"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
	"golang.org/x/sys/unix"
)

// requireKernel skips tests that need a kernel with arenas and the rights
// to use them.
func requireKernel(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.SkipKernel(t, "kernel engine tests need root")
	}
	if err := probe(); err != nil {
		testenv.SkipKernel(t, fmt.Sprintf("kernel engine unavailable: %v", err))
	}
}

// requireKfunc skips tests of a kfunc this kernel does not have.
func requireKfunc(t testing.TB, name string) {
	t.Helper()
	if _, err := findKernelSym(idxFunc, name); err != nil {
		t.Skip(MissingKfunc(name))
	}
}

// Instruction shorthands for hand-written test programs.
var (
	ldxDW = asm.MemOpCode(asm.ClassLDX, asm.ModeMEM, asm.SizeDW)
	stxDW = asm.MemOpCode(asm.ClassSTX, asm.ModeMEM, asm.SizeDW)
	movX  = asm.ALUOpCode(asm.ClassALU64, asm.ALUMov, asm.SourceX)
	movK  = asm.ALUOpCode(asm.ClassALU64, asm.ALUMov, asm.SourceK)
	jeqK  = asm.JumpOpCode(asm.ClassJMP, asm.JumpJEQ, asm.SourceK)
)

func mov(dst asm.Register, v int64) asm.Instruction {
	return asm.Instruction{OpCode: movK, Dst: dst, Constant: v}
}

var exit = asm.Instruction{OpCode: asm.OpExit}

// arenaSpec is an object with one arena of the given size and placement.
func arenaSpec(pages uint32, extra uint64, flags uint32) (*object.Spec, *object.MapSpec) {
	m := &object.MapSpec{
		Name: "arena", Type: object.Arena, MaxEntries: pages,
		Flags: object.FlagMmapable | flags, MapExtra: extra, Section: ".maps",
	}
	return &object.Spec{Path: "handmade.bpf.o", License: "GPL", Maps: []*object.MapSpec{m}}, m
}

var allocExtern = &object.ExternSpec{Name: "bpf_arena_alloc_pages", Kind: object.ExternKfunc}

// allocWriteProgram allocates one page with the kfunc, stores 0x1234 at
// its start through an arena pointer, and returns the page's address in
// the first 8 bytes of its ctx.
func allocWriteProgram(m *object.MapSpec) *object.ProgramSpec {
	insns := asm.Instructions{
		{OpCode: movX, Dst: asm.R6, Src: asm.R1},
		{OpCode: asm.OpLoadImm64, Dst: asm.R1}, // arena map
		mov(asm.R2, 0),
		mov(asm.R3, 1),
		mov(asm.R4, -1),
		mov(asm.R5, 0),
		{OpCode: asm.OpCall, Src: asm.PseudoKfuncCall}, // bpf_arena_alloc_pages
		{OpCode: jeqK, Dst: asm.R0, Constant: 0, Offset: 4},
		{OpCode: stxDW, Dst: asm.R6, Src: asm.R0},
		{OpCode: asm.OpMov64Reg, Dst: asm.R1, Src: asm.R0, Offset: asm.AddrSpaceCastOffset, Constant: asm.CastToArena},
		mov(asm.R2, 0x1234),
		{OpCode: stxDW, Dst: asm.R1, Src: asm.R2},
		mov(asm.R0, 0),
		exit,
	}
	return &object.ProgramSpec{
		Name: "alloc_write", Section: "syscall", Type: object.Syscall, Sleepable: true, License: "GPL",
		Instructions: insns,
		Relocations: map[int]object.Relocation{
			1: {Kind: object.RelocMap, Map: m, Symbol: "arena"},
			6: {Kind: object.RelocKfunc, Extern: allocExtern, Symbol: allocExtern.Name},
		},
	}
}

// mapsOverlapping counts the lines of /proc/self/maps that overlap
// [start, end).
func mapsOverlapping(t testing.TB, start, end uint64) int {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var lo, hi uint64
		if _, err := fmtSscanf(sc.Text(), &lo, &hi); err != nil {
			continue
		}
		if lo < end && start < hi {
			n++
		}
	}
	return n
}

func TestArenaPlacement(t *testing.T) {
	requireKernel(t)
	tests := []struct {
		name  string
		pages uint32
		extra uint64
	}{
		{"map_extra", 16, 1 << 44},
		{"map_extra high", 1, 0x7f0000000000},
		{"kernel chosen", 16, 0},
		{"kernel chosen 4GiB", 1 << 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, _ := arenaSpec(tt.pages, tt.extra, 0)
			c, err := Load(spec, engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a := c.Arena()
			if a == nil {
				t.Fatal("no arena")
			}
			start, size := a.Start(), a.Size()
			if tt.extra != 0 && start != tt.extra {
				t.Errorf("start %#x, want map_extra %#x", start, tt.extra)
			}
			if start == 0 || start%arena.PageSize != 0 {
				t.Errorf("start %#x", start)
			}
			if size != uint64(tt.pages)*arena.PageSize {
				t.Errorf("size %d, want %d pages", size, tt.pages)
			}
			if start>>32 != (start+size-1)>>32 {
				t.Errorf("[%#x, %#x) straddles a 4 GiB boundary", start, start+size)
			}
			if n := mapsOverlapping(t, start, start+size); n != 1 {
				t.Errorf("%d mappings over the arena, want 1", n)
			}
			c.Close()
			if n := mapsOverlapping(t, start, start+size); n != 0 {
				t.Errorf("%d mappings over the arena after Close, want 0", n)
			}
		})
	}
}

func TestMapExtraClash(t *testing.T) {
	requireKernel(t)
	const extra = 1<<44 + 1<<32
	spec, _ := arenaSpec(4, extra, 0)
	first, err := Load(spec, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	fds, maps := countFDs(t), countMaps(t)
	spec2, _ := arenaSpec(4, extra, 0)
	spec2.Programs = []*object.ProgramSpec{allocWriteProgram(spec2.Maps[0])}
	c, err := Load(spec2, engine.Options{})
	if err == nil {
		c.Close()
		t.Fatal("second arena at the same map_extra loaded")
	}
	if !strings.Contains(err.Error(), "already mapped") || !errors.Is(err, unix.EEXIST) {
		t.Errorf("error %q does not say the address is taken", err)
	}
	if n := countFDs(t); n != fds {
		t.Errorf("failed load leaked %d fds", n-fds)
	}
	if n := countMaps(t); n != maps {
		t.Errorf("failed load leaked %d mappings", n-maps)
	}
	// The first arena is untouched.
	b, err := first.Arena().Bytes(extra, 8)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 1
}

func TestAllocWrite(t *testing.T) {
	requireKernel(t)
	for _, extra := range []uint64{1 << 44, 0} {
		spec, m := arenaSpec(32, extra, 0)
		spec.Programs = []*object.ProgramSpec{allocWriteProgram(m)}
		c, err := Load(spec, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, ok := c.Program("alloc_write")
		if !ok {
			t.Fatal("program missing")
		}
		res, err := p.Run(engine.RunOptions{Context: make([]byte, 8)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Retval != 0 {
			t.Fatalf("retval %d", res.Retval)
		}
		addr := binary.LittleEndian.Uint64(res.ContextOut)
		a := c.Arena()
		if addr != a.Start() {
			t.Errorf("first page at %#x, want the arena start %#x", addr, a.Start())
		}
		if !a.Present(addr) {
			t.Errorf("page %#x allocated by BPF is not present", addr)
		}
		b, err := a.Bytes(addr, 8)
		if err != nil {
			t.Fatal(err)
		}
		if v := binary.LittleEndian.Uint64(b); v != 0x1234 {
			t.Errorf("Go reads %#x, want 0x1234", v)
		}
		c.Close()
	}
}

func fmtSscanf(line string, lo, hi *uint64) (int, error) {
	r, _, _ := strings.Cut(line, " ")
	a, b, ok := strings.Cut(r, "-")
	if !ok {
		return 0, errors.New("no range")
	}
	var err error
	if *lo, err = parseHex(a); err != nil {
		return 0, err
	}
	if *hi, err = parseHex(b); err != nil {
		return 1, err
	}
	return 2, nil
}

func parseHex(s string) (uint64, error) {
	var v uint64
	for _, ch := range s {
		switch {
		case ch >= '0' && ch <= '9':
			v = v<<4 | uint64(ch-'0')
		case ch >= 'a' && ch <= 'f':
			v = v<<4 | uint64(ch-'a'+10)
		default:
			return 0, errors.New("not hex")
		}
	}
	return v, nil
}

func countFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// countMaps counts this process's shared mappings: arenas and global data
// maps are mapped MAP_SHARED, while the Go runtime only ever makes private
// mappings, whose number changes as the heap grows.
func countMaps(t testing.TB) int {
	t.Helper()
	n, _ := countMappings(t)
	return n
}

// countMappings counts the shared mappings and all mappings.
func countMappings(t testing.TB) (shared, all int) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		all++
		if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1], "s") {
			shared++
		}
	}
	return shared, all
}

// On a kernel without arenas (the matrix's 6.1), loading an arena object
// says so plainly, and an object without an arena still loads.
func TestKernelWithoutArenas(t *testing.T) {
	rel, err := kversion.HostRelease()
	if err != nil {
		t.Fatal(err)
	}
	v, err := kversion.ParseVersion(rel)
	if err != nil || !v.Less(kversion.ArenaSince) {
		t.Skipf("kernel %s has arenas", rel)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	spec, _ := arenaSpec(1, 0, 0)
	_, err = Load(spec, engine.Options{})
	if !errors.Is(err, engine.ErrNotSupported) || !strings.Contains(err.Error(), "no BPF arena maps (Linux 6.9+ needed)") {
		t.Errorf("arena object on %s: %v", rel, err)
	}
	plain := &object.Spec{Path: "plain.bpf.o", License: "GPL", Programs: []*object.ProgramSpec{{
		Name: "ret7", Section: "syscall", Type: object.SocketFilter, License: "GPL",
		Instructions: asm.Instructions{mov(asm.R0, 7), exit},
	}}}
	c, err := Load(plain, engine.Options{})
	if err != nil {
		t.Fatalf("object without an arena on %s: %v", rel, err)
	}
	c.Close()
}
