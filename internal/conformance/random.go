package conformance

import (
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"syscall"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/kernel"
	"github.com/bpfarena/bpfarena/object"
)

// GenFeature is one kind of construct the random program generator can
// emit. Each can be switched off on its own, so that a construct the
// running kernel rejects does not hide the others.
type GenFeature uint32

// Generator features.
const (
	// GenSignExtArenaLoad: sign-extending loads (ldsx) from arena memory.
	GenSignExtArenaLoad GenFeature = 1 << iota
	// GenArenaFetchBitwise: atomic fetch_and/fetch_or/fetch_xor on arena
	// memory, which some JITs leave out.
	GenArenaFetchBitwise
	// GenLoadAcquire: load_acquire and store_release on arena memory.
	GenLoadAcquire
	// GenPointerALU: arithmetic on an arena pointer register (64-bit ops
	// on arena pointers are done as 32-bit).
	GenPointerALU
	// GenBodyCalls: page kfunc calls in the body, between memory accesses.
	GenBodyCalls
	// GenLoops: may_goto loops bounded by a counter.
	GenLoops
	// GenStorePointer: arena pointers stored into arena memory.
	GenStorePointer
	// GenPointerCasts: casts of arena pointers to user pointers and back.
	GenPointerCasts
	// GenReserve: bpf_arena_reserve_pages calls.
	GenReserve
	// GenStackAtomics: atomic operations on stack slots.
	GenStackAtomics
	// GenStraddle: arena accesses that may cross a page boundary, into a
	// page that may be absent.
	GenStraddle
	// GenNodes: NUMA node ids other than NUMA_NO_NODE for
	// bpf_arena_alloc_pages (whether a node exists depends on the machine).
	GenNodes
	// GenNullAddr: bpf_arena_alloc_pages with a NULL address once pages
	// are allocated, where the kernel's choice among the free ranges shows.
	GenNullAddr
	// GenDirtyFetch32: faulting fetches (32-bit atomics, narrow
	// load_acquire) into registers holding values the load could not
	// give. On a fault the x86 JIT leaves the register as it was, while
	// the verifier assumed a zero-extended value and may have removed
	// branches on that assumption.
	GenDirtyFetch32
	// GenMapValue: the arena's address as an ld_imm64 of its map value
	// (what a reference to an arena global compiles to).
	GenMapValue
	// GenPointerCompare: conditional jumps on arena pointers.
	GenPointerCompare
	// GenNoUserConv: arenas with BPF_F_NO_USER_CONV, where casting to a
	// user pointer only zero-extends.
	GenNoUserConv
	// GenGlobals: arena globals, whose initial image the loader copies to
	// the arena's start from user space, faulting those pages in.
	GenGlobals
	// GenSubprogs: calls of static subprograms that take an arena pointer
	// and have their own stack frame and registers r6-r9.
	GenSubprogs
	// GenWildAddr: page kfunc calls on any address, below the arena's
	// start included.
	GenWildAddr
	// GenFollow: arena pointers stored in arena memory as user addresses
	// and loaded back and cast, as C code keeps and follows links.
	GenFollow
	// GenPlainLoops: loops that the counter alone ends, without may_goto:
	// the kernel's verifier walks them round by round and the vm's
	// replays them to see them end.
	GenPlainLoops
)

// genFeatureNames are the features' short names, in bit order.
var genFeatureNames = []string{
	"ldsx", "fetch-bitwise", "acquire-release", "pointer-alu", "calls", "loops",
	"pointer-store", "casts", "reserve", "stack-atomics", "straddle", "nodes", "null-addr", "dirty-fetch32", "map-value", "pointer-compare", "no-user-conv", "globals", "subprogs", "wild-addr", "follow", "plain-loops",
}

func (f GenFeature) String() string {
	var s string
	for i, n := range genFeatureNames {
		if f&(1<<i) != 0 {
			if s != "" {
				s += ","
			}
			s += n
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// ParseGenFeatures parses a comma-separated list of feature names, as
// String prints them.
func ParseGenFeatures(s string) (GenFeature, error) {
	var f GenFeature
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" || name == "none" {
			continue
		}
		i := slices.Index(genFeatureNames, name)
		if i < 0 {
			return 0, fmt.Errorf("unknown generator feature %q (known: %s)", name, strings.Join(genFeatureNames, ", "))
		}
		f |= 1 << i
	}
	return f, nil
}

// GenConfig shapes the random programs.
type GenConfig struct {
	// Pages is the arena size in pages (0: 16 mostly, sometimes other
	// sizes from 1 to 256).
	Pages uint32
	// Body is the number of random items in the program body (0: 32);
	// an item is one instruction or a short fixed pattern.
	Body int
	// Disable lists the features to leave out.
	Disable GenFeature
	// Runs is how many times RunRandom runs the program, the arena
	// carrying over (0: once or twice at random).
	Runs int
}

func (c GenConfig) pages() uint32 {
	if c.Pages == 0 {
		return 16
	}
	return c.Pages
}

func (c GenConfig) body() int {
	if c.Body <= 0 {
		return 32
	}
	return c.Body
}

// RandomProgram is the name of the generated program.
const RandomProgram = "rnd"

// The stack slots random loads and stores use: [-stackSlots*8, 0) off r10.
// All are written by the prologue, so that any aligned read is of
// initialised memory. The slot below them holds a spilled arena pointer.
const (
	stackSlots   = 8
	ptrSpillSlot = -(stackSlots + 1) * 8
)

// Register roles. r6 is the arena pointer of the first allocated page and
// never changes after the prologue; r9 is a second arena pointer the body
// moves around; everything else holds scalars. r1-r5 and r0 are
// clobbered by calls and set again after each.
const (
	regBase = asm.R6
	regPtr  = asm.R9
)

var scalarRegs = []asm.Register{asm.R0, asm.R1, asm.R2, asm.R3, asm.R4, asm.R5, asm.R7, asm.R8}

// The 64-bit register moves, by constant and by register.
var (
	opMovK = asm.ALUOpCode(asm.ClassALU64, asm.ALUMov, asm.SourceK)
	opMovX = asm.ALUOpCode(asm.ClassALU64, asm.ALUMov, asm.SourceX)
)

// genLabel names a position in the program being built.
type genLabel int

// builder assembles instructions with symbolic jump targets.
type builder struct {
	insns  asm.Instructions
	relocs map[int]object.Relocation
	// fix maps an instruction index to the label its jump goes to.
	fix    map[int]genLabel
	labels []int // instruction index of each label, -1 while unbound
}

func (b *builder) emit(ins ...asm.Instruction) {
	b.insns = append(b.insns, ins...)
}

func (b *builder) newLabel() genLabel {
	b.labels = append(b.labels, -1)
	return genLabel(len(b.labels) - 1)
}

func (b *builder) bind(l genLabel) { b.labels[l] = len(b.insns) }

func (b *builder) jump(ins asm.Instruction, l genLabel) {
	b.fix[len(b.insns)] = l
	b.emit(ins)
}

func (b *builder) reloc(ins asm.Instruction, r object.Relocation) {
	b.relocs[len(b.insns)] = r
	b.emit(ins)
}

// resolve turns label references into slot offsets.
func (b *builder) resolve() error {
	offs := b.insns.Offsets()
	end := b.insns.SlotCount()
	slotOf := func(i int) int {
		if i == len(offs) {
			return end
		}
		return offs[i]
	}
	for i, l := range b.fix {
		t := b.labels[l]
		if t < 0 {
			return fmt.Errorf("instruction %d: jump to an unbound label", i)
		}
		rel := slotOf(t) - (offs[i] + b.insns[i].Slots())
		if b.insns[i].OpCode == asm.OpGotoL || b.insns[i].IsSubprogCall() {
			b.insns[i].Constant = int64(rel)
		} else {
			if rel < -32768 || rel > 32767 {
				return fmt.Errorf("instruction %d: jump offset %d out of range", i, rel)
			}
			b.insns[i].Offset = int16(rel)
		}
	}
	return nil
}

// generator is the state of one Generate call.
type generator struct {
	r     *rand.Rand
	cfg   GenConfig
	b     builder
	arena *object.MapSpec
	spec  *object.Spec
	ext   map[string]*object.ExternSpec
	// locked registers must not be written (a loop counter).
	locked map[asm.Register]bool
	// pending forward jumps: each waits for its countdown of items.
	pending []pendingJump
	inLoop  bool
	loops   int
	// bodyStarted is set once the prologue is done.
	bodyStarted bool
	// pages is the arena's size.
	pages uint32
	// subs are the subprograms called so far, emitted after the entry
	// function; inSub is set while one is generated.
	subs  []genLabel
	inSub bool
}

type pendingJump struct {
	l     genLabel
	items int
}

func newGenerator(r *rand.Rand, cfg GenConfig) *generator {
	return &generator{
		r: r, cfg: cfg, locked: map[asm.Register]bool{}, ext: map[string]*object.ExternSpec{},
		b: builder{relocs: map[int]object.Relocation{}, fix: map[int]genLabel{}},
	}
}

func (g *generator) has(f GenFeature) bool { return g.cfg.Disable&f == 0 }

// Generate builds, in memory, an object with one arena map and one
// sleepable syscall program named RandomProgram, made of random
// instructions. Programs are valid for the Linux 6.18 verifier by
// construction (given the features the kernel supports) and terminate:
// jumps go forward except for the back edges of may_goto loops bounded by
// a counter.
func Generate(r *rand.Rand, cfg GenConfig) *object.Spec {
	g := newGenerator(r, cfg)
	g.pages = cfg.Pages
	if g.pages == 0 {
		g.pages = 16
		if g.chance(0.3) {
			g.pages = []uint32{1, 2, 3, 4, 8, 64, 256}[g.pick(7)]
		}
	}
	g.arena = &object.MapSpec{
		Name: "arena", Type: object.Arena, MaxEntries: g.pages,
		Flags: object.FlagMmapable, Section: ".maps",
	}
	if g.has(GenNoUserConv) && g.chance(0.25) {
		g.arena.Flags |= object.FlagNoUserConv
	}
	if g.has(GenGlobals) && g.chance(0.2) && g.pages > 1 {
		// The globals leave a page free for the prologue's allocation,
		// whose address everything else is computed from.
		n := []int{8, 100, 4096, 4097, 9000}[g.pick(5)]
		n = min(n, int(g.pages-1)*4096)
		g.arena.Contents = make([]byte, n)
		// Only the start varies, so that a case prints short.
		for i := range min(n, 64) {
			g.arena.Contents[i] = byte(g.r.Intn(256))
		}
	}
	g.spec = &object.Spec{Path: "random.bpf.o", License: "GPL", Maps: []*object.MapSpec{g.arena}}

	g.prologue()
	for i := 0; i < cfg.body(); i++ {
		g.item()
	}
	g.flush()
	g.epilogue()
	for _, l := range g.subs {
		g.subprogram(l)
	}
	if err := g.b.resolve(); err != nil {
		// The builder only binds labels it created; an unbound one is a
		// bug here, not a property of the random input.
		panic(err)
	}
	prog := &object.ProgramSpec{
		Name: RandomProgram, Section: "syscall", Type: object.Syscall,
		Sleepable: true, Flags: object.ProgFlagSleepable, License: "GPL",
		Instructions: g.b.insns, Relocations: g.b.relocs, Funcs: funcsOf(g.b.insns),
	}
	g.spec.Programs = []*object.ProgramSpec{prog}
	for _, name := range []string{"bpf_arena_alloc_pages", "bpf_arena_free_pages", "bpf_arena_reserve_pages"} {
		if e, ok := g.ext[name]; ok {
			g.spec.Externs = append(g.spec.Externs, e)
		}
	}
	return g.spec
}

// --- small helpers -------------------------------------------------------

func movImm(dst asm.Register, v int32) asm.Instruction {
	return asm.Instruction{OpCode: opMovK, Dst: dst, Constant: int64(v)}
}

func movReg(dst, src asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: opMovX, Dst: dst, Src: src}
}

func ldImm64(dst asm.Register, v int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpLoadImm64, Dst: dst, Constant: v}
}

func castToArena(dst, src asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpMov64Reg, Dst: dst, Src: src, Offset: asm.AddrSpaceCastOffset, Constant: asm.CastToArena}
}

func castToUser(dst, src asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpMov64Reg, Dst: dst, Src: src, Offset: asm.AddrSpaceCastOffset, Constant: asm.CastToUser}
}

func aluK(class asm.Class, op asm.ALUOp, dst asm.Register, imm int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.ALUOpCode(class, op, asm.SourceK), Dst: dst, Constant: int64(imm)}
}

func aluX(class asm.Class, op asm.ALUOp, dst, src asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: asm.ALUOpCode(class, op, asm.SourceX), Dst: dst, Src: src}
}

func load(size asm.Size, dst, base asm.Register, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.MemOpCode(asm.ClassLDX, asm.ModeMEM, size), Dst: dst, Src: base, Offset: off}
}

func store(size asm.Size, base, src asm.Register, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.MemOpCode(asm.ClassSTX, asm.ModeMEM, size), Dst: base, Src: src, Offset: off}
}

func storeImm(size asm.Size, base asm.Register, off int16, imm int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.MemOpCode(asm.ClassST, asm.ModeMEM, size), Dst: base, Offset: off, Constant: int64(imm)}
}

var sizes = []asm.Size{asm.SizeB, asm.SizeH, asm.SizeW, asm.SizeDW}

func (g *generator) pick(n int) int { return g.r.Intn(n) }

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

// scalar returns a scalar register to read.
func (g *generator) scalar() asm.Register { return scalarRegs[g.pick(len(scalarRegs))] }

// dest returns a scalar register that may be written.
func (g *generator) dest() asm.Register {
	for {
		r := g.scalar()
		if !g.locked[r] {
			return r
		}
	}
}

// imm32 returns an immediate, biased to the values where arithmetic has
// edge cases.
func (g *generator) imm32() int32 {
	switch g.pick(6) {
	case 0:
		edges := []int32{0, 1, -1, 2, -2, 0x7fffffff, -0x80000000, 31, 32, 63, 64, 0xff, 0xffff, 0x8000, -0x8000, 0x80, 4096}
		return edges[g.pick(len(edges))]
	case 1, 2:
		return int32(g.r.Intn(256) - 128)
	case 3:
		return int32(g.r.Intn(1 << 16))
	default:
		return int32(g.r.Uint32())
	}
}

// imm64 returns a 64-bit constant for ld_imm64.
func (g *generator) imm64() int64 {
	switch g.pick(4) {
	case 0:
		edges := []int64{0, -1, -1 << 63, 1<<63 - 1, 1 << 32, 1<<32 - 1, 0x80000000, -1 << 32, 0x100000001}
		return edges[g.pick(len(edges))]
	case 1:
		return int64(g.r.Uint32())<<32 | int64(g.imm32())&0xffffffff
	default:
		return int64(g.r.Uint64())
	}
}

// setScalar makes r hold a random constant.
func (g *generator) setScalar(r asm.Register) {
	switch g.pick(4) {
	case 0:
		g.b.emit(ldImm64(r, g.imm64()))
	case 1:
		g.b.emit(aluK(asm.ClassALU, asm.ALUMov, r, g.imm32()))
	default:
		g.b.emit(movImm(r, g.imm32()))
	}
}

// arenaOff returns an offset from an arena pointer, biased to page
// boundaries, the arena's edges and the guard. Without GenStraddle, an
// access of size bytes from a page-aligned base stays within one page.
func (g *generator) arenaOff(size int) int16 {
	off := g.anyArenaOff(size)
	if !g.has(GenStraddle) && int(uint16(off))%4096+size > 4096 {
		off -= int16(size)
	}
	return off
}

func (g *generator) anyArenaOff(size int) int16 {
	switch g.pick(5) {
	case 0, 1:
		// within the first pages, near a page boundary
		pg := g.pick(4)
		return int16(pg*4096 + g.pick(17) - 8 - size/2)
	case 2:
		return int16(g.pick(8*4096 - size))
	case 3:
		return int16(-g.pick(32768))
	default:
		return int16(g.r.Intn(65536) - 32768)
	}
}

// --- prologue ------------------------------------------------------------

func (g *generator) extern(name string) *object.ExternSpec {
	e, ok := g.ext[name]
	if !ok {
		e = &object.ExternSpec{Name: name, Kind: object.ExternKfunc}
		g.ext[name] = e
	}
	return e
}

// mapValue loads the user address of page pg of the arena, as a
// reference to an arena global does: a scalar whose upper half differs
// between the engines, to be used as a kfunc address or cast.
func (g *generator) mapValue(dst asm.Register, pg int) {
	// Below the end: 7.3 refuses an address at the arena's very end.
	off := uint32(min(pg, int(g.pages)-1)) * 4096
	g.b.reloc(asm.Instruction{OpCode: asm.OpLoadImm64, Dst: dst, Src: asm.PseudoMapValue, Constant: int64(off) << 32},
		object.Relocation{Kind: object.RelocMapValue, Map: g.arena, Offset: off, Symbol: g.arena.Name})
}

func (g *generator) loadMap(dst asm.Register) {
	g.b.reloc(asm.Instruction{OpCode: asm.OpLoadImm64, Dst: dst, Src: asm.PseudoMapFD},
		object.Relocation{Kind: object.RelocMap, Map: g.arena, Symbol: g.arena.Name})
}

func (g *generator) callKfunc(name string) {
	e := g.extern(name)
	g.b.reloc(asm.Instruction{OpCode: asm.OpCall, Src: asm.PseudoKfuncCall},
		object.Relocation{Kind: object.RelocKfunc, Extern: e, Symbol: name})
}

// pageAddr sets r2 to the address of page pg of the arena, computed from
// base (a register holding an address in the arena's first page, either
// the full user address or an arena pointer) so that the program does not
// depend on where the arena is. Sometimes the address is misaligned or
// made of its low 32 bits only, which the kfuncs must treat alike.
func (g *generator) pageAddr(base asm.Register, pg int) {
	g.b.emit(movReg(asm.R2, base))
	if g.chance(0.2) {
		g.b.emit(aluX(asm.ClassALU, asm.ALUMov, asm.R2, asm.R2))
	}
	off := int32(pg * 4096)
	if g.chance(0.1) {
		off += int32(g.pick(4095) + 1)
	}
	if off != 0 {
		g.b.emit(aluK(asm.ClassALU64, asm.ALUAdd, asm.R2, off))
	}
}

// pageCount returns a page count, mostly small, sometimes 0 or too large.
func (g *generator) pageCount() int32 {
	switch {
	case g.chance(0.05):
		return 0
	case g.chance(0.05):
		return int32(g.pages) + int32(g.pick(3))
	default:
		return int32(1 + g.pick(3))
	}
}

// pageCall emits one page kfunc call with random arguments, and folds its
// result into r8. base holds an address in page 0, as for pageAddr.
// Afterwards r0-r5 are not initialised.
func (g *generator) pageCall(base asm.Register) {
	pages := int(g.pages)
	kind := g.pick(3)
	if kind == 2 && !g.has(GenReserve) {
		kind = 0
	}
	g.loadMap(asm.R1)
	switch {
	case kind == 0 && g.has(GenNullAddr) && g.chance(0.3):
		g.b.emit(movImm(asm.R2, 0))
	case kind == 2 && g.chance(0.05):
		g.b.emit(movImm(asm.R2, 0))
	case g.inBody() && g.has(GenWildAddr) && g.chance(0.1):
		// Wherever the moving pointer is.
		g.b.emit(movReg(asm.R2, regPtr))
	case g.has(GenMapValue) && g.chance(0.15):
		g.mapValue(asm.R2, g.pick(pages+2))
		if g.chance(0.1) {
			g.b.emit(aluK(asm.ClassALU64, asm.ALUAdd, asm.R2, int32(g.pick(4095)+1)))
		}
	default:
		g.pageAddr(base, g.pick(pages+2))
	}
	g.b.emit(movImm(asm.R3, g.pageCount()))
	switch kind {
	case 0:
		node, flags := int32(-1), int32(0)
		if g.has(GenNodes) && g.chance(0.05) {
			node = int32(g.pick(3))
		}
		if g.chance(0.03) {
			flags = 1
		}
		g.b.emit(movImm(asm.R4, node), movImm(asm.R5, flags))
		g.callKfunc("bpf_arena_alloc_pages")
	case 1:
		g.callKfunc("bpf_arena_free_pages")
	case 2:
		g.callKfunc("bpf_arena_reserve_pages")
	}
	if kind != 1 {
		// Only the low 32 bits of a returned address are the same on both
		// engines; an int result is 32-bit anyway.
		g.b.emit(aluX(asm.ClassALU, asm.ALUMov, asm.R0, asm.R0))
		g.b.emit(aluK(asm.ClassALU64, asm.ALUMul, asm.R8, 3))
		g.b.emit(aluX(asm.ClassALU64, asm.ALUAdd, asm.R8, asm.R0))
		if kind == 0 && g.inBody() && g.chance(0.3) {
			// Use the new pages (or NULL) as the moving pointer.
			g.b.emit(castToArena(regPtr, asm.R0))
		}
	}
}

func (g *generator) inBody() bool { return g.bodyStarted }

func (g *generator) prologue() {
	// First page(s): lowest first fit, so page 0. Its address is the base
	// everything else is computed from.
	g.loadMap(asm.R1)
	free := int(g.pages) - (len(g.arena.Contents)+4095)/4096
	g.b.emit(movImm(asm.R2, 0), movImm(asm.R3, int32(min(1+g.pick(2), free))), movImm(asm.R4, -1), movImm(asm.R5, 0))
	g.callKfunc("bpf_arena_alloc_pages")
	if !g.has(GenWildAddr) {
		// A full arena (a second run) gives NULL, and addresses computed
		// from it fall below the arena: end the program with 0 instead.
		g.b.emit(asm.Instruction{OpCode: asm.JumpOpCode(asm.ClassJMP, asm.JumpJNE, asm.SourceK), Dst: asm.R0, Offset: 1},
			asm.Instruction{OpCode: asm.OpExit})
	}
	g.b.emit(movReg(asm.R7, asm.R0))
	g.b.emit(movImm(asm.R8, 0))
	for n := g.pick(4); n > 0; n-- {
		g.pageCall(asm.R7)
	}
	g.b.emit(castToArena(regBase, asm.R7))
	g.b.emit(movReg(regPtr, regBase))
	if off := int32(g.pick(16) * 4096 / 4); off != 0 {
		g.b.emit(aluK(asm.ClassALU64, asm.ALUAdd, regPtr, off))
	}
	g.b.emit(store(asm.SizeDW, asm.R10, regBase, ptrSpillSlot))
	// Stack slots: constants, so reads are of initialised memory.
	for i := 1; i <= stackSlots; i++ {
		g.b.emit(storeImm(asm.SizeDW, asm.R10, int16(-8*i), g.imm32()))
	}
	// r8 keeps the results of the prologue's calls; the others start as
	// constants.
	for _, r := range scalarRegs {
		if r != asm.R8 {
			g.setScalar(r)
		}
	}
	g.bodyStarted = true
}

// --- body ----------------------------------------------------------------

// item emits one body item: a random instruction or a short pattern. Forward
// jumps emitted by earlier items land on item boundaries only.
func (g *generator) item() {
	type choice struct {
		w  int
		ok bool
		f  func()
	}
	choices := []choice{
		{30, true, g.aluItem},
		{8, true, g.movItem},
		{3, true, func() { g.setScalar(g.dest()) }},
		{6, g.has(GenPointerALU), g.pointerALU},
		{6, true, g.stackStore},
		{6, true, g.stackLoad},
		{2, g.has(GenStackAtomics), g.stackAtomic},
		{10, true, g.arenaStore},
		{10, true, g.arenaLoad},
		{8, true, g.arenaAtomic},
		{2, g.has(GenLoadAcquire), g.acquireRelease},
		{2, true, g.pointerSpill},
		{2, g.has(GenPointerCasts), g.castRoundTrip},
		{2, g.has(GenMapValue), g.mapValuePointer},
		{4, g.has(GenFollow), g.follow},
		{8, !g.inLoop, g.condJump},
		{3, !g.inLoop, g.diamond},
		{3, !g.inLoop && g.has(GenBodyCalls), g.bodyCall},
		{2, !g.inLoop && g.loops < 2 && (g.has(GenLoops) || g.has(GenPlainLoops)), g.loop},
		{3, !g.inLoop && !g.inSub && g.has(GenSubprogs), g.subCall},
	}
	total := 0
	for _, c := range choices {
		if c.ok {
			total += c.w
		}
	}
	n := g.pick(total)
	for _, c := range choices {
		if !c.ok {
			continue
		}
		if n < c.w {
			c.f()
			break
		}
		n -= c.w
	}
	g.tick()
}

// simpleItem emits an item without control flow or calls, for the insides
// of diamonds and loops.
func (g *generator) simpleItem() {
	switch g.pick(8) {
	case 0, 1, 2:
		g.aluItem()
	case 3:
		g.movItem()
	case 4:
		g.arenaLoad()
	case 5:
		g.arenaStore()
	case 6:
		g.arenaAtomic()
	default:
		if g.chance(0.5) {
			g.stackStore()
		} else {
			g.stackLoad()
		}
	}
}

// tick counts an item down for the pending forward jumps.
func (g *generator) tick() {
	kept := g.pending[:0]
	for _, p := range g.pending {
		p.items--
		if p.items <= 0 {
			g.b.bind(p.l)
			continue
		}
		kept = append(kept, p)
	}
	g.pending = kept
}

// flush lands every pending forward jump here.
func (g *generator) flush() {
	for _, p := range g.pending {
		g.b.bind(p.l)
	}
	g.pending = g.pending[:0]
}

var aluOps = []asm.ALUOp{asm.ALUAdd, asm.ALUSub, asm.ALUMul, asm.ALUDiv, asm.ALUOr, asm.ALUAnd,
	asm.ALULsh, asm.ALURsh, asm.ALUMod, asm.ALUXor, asm.ALUArsh}

func (g *generator) class() asm.Class {
	if g.chance(0.5) {
		return asm.ClassALU
	}
	return asm.ClassALU64
}

// aluOperand fills in the K or X operand of an ALU operation on dst.
func (g *generator) aluOperand(class asm.Class, op asm.ALUOp, dst asm.Register, srcs []asm.Register) asm.Instruction {
	var ins asm.Instruction
	if g.chance(0.5) {
		imm := g.imm32()
		switch op {
		case asm.ALULsh, asm.ALURsh, asm.ALUArsh:
			// The verifier rejects constant shifts of the width or more.
			width := int32(64)
			if class == asm.ClassALU {
				width = 32
			}
			imm = int32(uint32(imm) % uint32(width))
		case asm.ALUDiv, asm.ALUMod:
			// and division by a constant zero.
			if imm == 0 {
				imm = -1
			}
		}
		ins = aluK(class, op, dst, imm)
	} else {
		ins = aluX(class, op, dst, srcs[g.pick(len(srcs))])
	}
	if (op == asm.ALUDiv || op == asm.ALUMod) && g.chance(0.4) {
		ins.Offset = asm.SignedDivModOffset
	}
	return ins
}

func (g *generator) aluItem() {
	class := g.class()
	op := aluOps[g.pick(len(aluOps))]
	g.b.emit(g.aluOperand(class, op, g.dest(), scalarRegs))
}

func (g *generator) movItem() {
	dst := g.dest()
	switch g.pick(6) {
	case 0:
		g.b.emit(movReg(dst, g.scalar()))
	case 1:
		g.b.emit(aluX(asm.ClassALU, asm.ALUMov, dst, g.scalar()))
	case 2:
		// movsx
		class := g.class()
		widths := []int16{8, 16}
		if class == asm.ClassALU64 {
			widths = append(widths, 32)
		}
		ins := aluX(class, asm.ALUMov, dst, g.scalar())
		ins.Offset = widths[g.pick(len(widths))]
		g.b.emit(ins)
	case 3:
		g.b.emit(asm.Instruction{OpCode: asm.ALUOpCode(g.class(), asm.ALUNeg, asm.SourceK), Dst: dst})
	case 4:
		// le/be (ALU) or bswap (ALU64)
		widths := []int64{16, 32, 64}
		ins := asm.Instruction{Dst: dst, Constant: widths[g.pick(3)]}
		if g.chance(0.5) {
			ins.OpCode = asm.ALUOpCode(asm.ClassALU64, asm.ALUEnd, asm.SourceK)
		} else if g.chance(0.5) {
			ins.OpCode = asm.ALUOpCode(asm.ClassALU, asm.ALUEnd, asm.ToLE)
		} else {
			ins.OpCode = asm.ALUOpCode(asm.ClassALU, asm.ALUEnd, asm.ToBE)
		}
		g.b.emit(ins)
	default:
		g.setScalar(dst)
	}
}

// pointerALU does arithmetic on the moving arena pointer r9. It stays an
// arena pointer; 64-bit operations on it are done as 32-bit.
func (g *generator) pointerALU() {
	if g.chance(0.15) {
		g.b.emit(movReg(regPtr, regBase))
		return
	}
	class := g.class()
	ops := []asm.ALUOp{asm.ALUAdd, asm.ALUAdd, asm.ALUAdd, asm.ALUSub, asm.ALUSub, asm.ALUXor, asm.ALUOr, asm.ALUAnd,
		asm.ALUMul, asm.ALULsh, asm.ALURsh, asm.ALUArsh, asm.ALUDiv, asm.ALUMod}
	op := ops[g.pick(len(ops))]
	if op == asm.ALUAdd && g.chance(0.5) {
		// Page-sized steps keep the pointer in or near the arena.
		g.b.emit(aluK(class, op, regPtr, int32(g.pick(9)-4)*4096+int32(g.pick(3)-1)*int32(g.pick(16))))
		return
	}
	g.b.emit(g.aluOperand(class, op, regPtr, scalarRegs))
}

// stackOff returns an aligned offset into the initialised stack slots.
func (g *generator) stackOff(size int) int16 {
	slot := 1 + g.pick(stackSlots)
	return int16(-8*slot + size*g.pick(8/size))
}

func (g *generator) stackStore() {
	size := sizes[g.pick(4)]
	off := g.stackOff(size.Bytes())
	if g.chance(0.3) {
		g.b.emit(storeImm(size, asm.R10, off, g.imm32()))
		return
	}
	g.b.emit(store(size, asm.R10, g.scalar(), off))
}

func (g *generator) stackLoad() {
	size := sizes[g.pick(4)]
	ins := load(size, g.dest(), asm.R10, g.stackOff(size.Bytes()))
	if size != asm.SizeDW && g.chance(0.25) {
		ins.OpCode = asm.MemOpCode(asm.ClassLDX, asm.ModeMEMSX, size)
	}
	g.b.emit(ins)
}

// baseSize picks the base register and width of an arena access. r9 may
// point anywhere, so without GenStraddle its accesses are single bytes.
func (g *generator) baseSize() (asm.Register, asm.Size) {
	size := sizes[g.pick(4)]
	if g.chance(0.6) {
		return regBase, size
	}
	if !g.has(GenStraddle) {
		size = asm.SizeB
	}
	return regPtr, size
}

func (g *generator) arenaLoad() {
	base, size := g.baseSize()
	ins := load(size, g.dest(), base, g.arenaOff(size.Bytes()))
	if size != asm.SizeDW && g.has(GenSignExtArenaLoad) && g.chance(0.3) {
		ins.OpCode = asm.MemOpCode(asm.ClassLDX, asm.ModeMEMSX, size)
	}
	g.b.emit(ins)
}

func (g *generator) arenaStore() {
	base, size := g.baseSize()
	off := g.arenaOff(size.Bytes())
	switch {
	case g.chance(0.25):
		g.b.emit(storeImm(size, base, off, g.imm32()))
	case g.has(GenStorePointer) && g.chance(0.1):
		src := regBase
		if g.chance(0.5) {
			src = regPtr
		}
		g.b.emit(store(size, base, src, off))
	default:
		g.b.emit(store(size, base, g.scalar(), off))
	}
}

var atomicOps = []asm.AtomicOp{asm.AtomicAdd, asm.AtomicOr, asm.AtomicAnd, asm.AtomicXor,
	asm.AtomicAdd | asm.AtomicFetch, asm.AtomicOr | asm.AtomicFetch, asm.AtomicAnd | asm.AtomicFetch,
	asm.AtomicXor | asm.AtomicFetch, asm.AtomicXchg, asm.AtomicCmpXchg}

// atomicOp returns a random read-modify-write atomic instruction on
// base+off (off already aligned) of the given size.
func (g *generator) atomicOp(size asm.Size, base asm.Register, off int16, bitwiseFetch bool) asm.Instruction {
	for {
		op := atomicOps[g.pick(len(atomicOps))]
		switch op {
		case asm.AtomicOr | asm.AtomicFetch, asm.AtomicAnd | asm.AtomicFetch, asm.AtomicXor | asm.AtomicFetch:
			if !bitwiseFetch {
				continue
			}
		case asm.AtomicCmpXchg:
			if g.locked[asm.R0] {
				continue
			}
		}
		src := g.scalar()
		if op.IsFetch() {
			// The old value lands in src.
			src = g.dest()
		}
		return asm.Instruction{OpCode: asm.MemOpCode(asm.ClassSTX, asm.ModeATOMIC, size), Dst: base, Src: src, Offset: off, Constant: int64(op)}
	}
}

// arenaAtomic does an atomic operation on arena memory. Only r6, which is
// page aligned, is the base, and offsets are aligned: a locked operation
// split over two cache lines is one the kernel may refuse to execute.
func (g *generator) arenaAtomic() {
	size := asm.SizeW
	if g.chance(0.5) {
		size = asm.SizeDW
	}
	n := int16(size.Bytes())
	off := g.arenaOff(int(n)) &^ (n - 1)
	ins := g.atomicOp(size, regBase, off, g.has(GenArenaFetchBitwise))
	if size == asm.SizeW && ins.AtomicOp().IsFetch() && !g.has(GenDirtyFetch32) {
		g.b.emit(aluX(asm.ClassALU, asm.ALUMov, ins.Src, ins.Src))
		if ins.AtomicOp() == asm.AtomicCmpXchg {
			g.b.emit(aluX(asm.ClassALU, asm.ALUMov, asm.R0, asm.R0))
		}
	}
	g.b.emit(ins)
}

func (g *generator) stackAtomic() {
	size := asm.SizeW
	if g.chance(0.5) {
		size = asm.SizeDW
	}
	g.b.emit(g.atomicOp(size, asm.R10, g.stackOff(size.Bytes()), true))
}

func (g *generator) acquireRelease() {
	size := sizes[g.pick(4)]
	n := int16(size.Bytes())
	off := g.arenaOff(int(n)) &^ (n - 1)
	op := asm.MemOpCode(asm.ClassSTX, asm.ModeATOMIC, size)
	if g.chance(0.5) {
		dst := g.dest()
		if size != asm.SizeDW && !g.has(GenDirtyFetch32) {
			g.b.emit(movImm(dst, 0))
		}
		g.b.emit(asm.Instruction{OpCode: op, Dst: dst, Src: regBase, Offset: off, Constant: int64(asm.AtomicLoadAcquire)})
	} else {
		g.b.emit(asm.Instruction{OpCode: op, Dst: regBase, Src: g.scalar(), Offset: off, Constant: int64(asm.AtomicStoreRelease)})
	}
}

// pointerSpill spills or fills the moving arena pointer through its own
// stack slot.
func (g *generator) pointerSpill() {
	if g.chance(0.5) {
		g.b.emit(store(asm.SizeDW, asm.R10, regPtr, ptrSpillSlot))
	} else {
		g.b.emit(load(asm.SizeDW, regPtr, asm.R10, ptrSpillSlot))
	}
}

// mapValuePointer points r9 into the arena through its map value, or
// keeps the address's low half as a scalar.
func (g *generator) mapValuePointer() {
	tmp := g.dest()
	g.mapValue(tmp, g.pick(int(g.pages)+1))
	if g.chance(0.7) {
		g.b.emit(castToArena(regPtr, tmp))
	}
	g.b.emit(aluX(asm.ClassALU, asm.ALUMov, tmp, tmp))
}

// follow stores the moving pointer as a user address in an aligned arena
// word, or loads such a word and makes it the moving pointer: a link
// written and followed. The scratch register keeps only its low half
// afterwards, as a scalar.
func (g *generator) follow() {
	tmp := g.dest()
	off := g.arenaOff(8) &^ 7
	if g.chance(0.5) {
		g.b.emit(castToUser(tmp, regPtr), store(asm.SizeDW, regBase, tmp, off))
	} else {
		g.b.emit(load(asm.SizeDW, tmp, regBase, off), castToArena(regPtr, tmp))
	}
	g.b.emit(aluX(asm.ClassALU, asm.ALUMov, tmp, tmp))
}

// castRoundTrip casts the moving pointer to a user pointer and back, or
// keeps the user pointer's low half as a scalar: the upper half depends on
// where each engine put the arena.
func (g *generator) castRoundTrip() {
	tmp := g.dest()
	g.b.emit(castToUser(tmp, regPtr))
	if g.chance(0.5) {
		if g.chance(0.5) {
			g.b.emit(aluK(asm.ClassALU64, asm.ALUAdd, tmp, int32(g.pick(8))*4096))
		}
		g.b.emit(castToArena(regPtr, tmp))
	}
	g.b.emit(aluX(asm.ClassALU, asm.ALUMov, tmp, tmp))
}

var jumpOps = []asm.JumpOp{asm.JumpJEQ, asm.JumpJGT, asm.JumpJGE, asm.JumpJSET, asm.JumpJNE,
	asm.JumpJSGT, asm.JumpJSGE, asm.JumpJLT, asm.JumpJLE, asm.JumpJSLT, asm.JumpJSLE}

// cond returns a random conditional jump on scalars, its offset unset.
func (g *generator) cond() asm.Instruction {
	class := asm.ClassJMP
	if g.chance(0.4) {
		class = asm.ClassJMP32
	}
	op := jumpOps[g.pick(len(jumpOps))]
	if g.chance(0.5) {
		imm := g.imm32()
		if g.chance(0.5) {
			imm = int32(g.pick(16) - 8)
		}
		return asm.Instruction{OpCode: asm.JumpOpCode(class, op, asm.SourceK), Dst: g.scalar(), Constant: int64(imm)}
	}
	return asm.Instruction{OpCode: asm.JumpOpCode(class, op, asm.SourceX), Dst: g.scalar(), Src: g.scalar()}
}

func (g *generator) condJump() {
	l := g.b.newLabel()
	ins := g.cond()
	if g.has(GenPointerCompare) && g.chance(0.15) {
		// As C code tests arena pointers: against NULL, or each other.
		ins.Dst = regPtr
		if ins.OpCode.Source() == asm.SourceX && g.chance(0.5) {
			ins.Src = regBase
		} else if ins.OpCode.Source() == asm.SourceK && g.chance(0.5) {
			ins.Constant = 0
		}
	}
	g.b.jump(ins, l)
	// The item itself counts, so 1 lands right after it.
	g.pending = append(g.pending, pendingJump{l: l, items: 2 + g.pick(6)})
}

// diamond is if/else: the condition jumps to the else part, the then
// part ends with a goto over it.
func (g *generator) diamond() {
	elseL, endL := g.b.newLabel(), g.b.newLabel()
	g.b.jump(g.cond(), elseL)
	for n := 1 + g.pick(3); n > 0; n-- {
		g.simpleItem()
	}
	if g.chance(0.2) {
		g.b.jump(asm.Instruction{OpCode: asm.OpGotoL}, endL)
	} else {
		g.b.jump(asm.Instruction{OpCode: asm.OpJA}, endL)
	}
	g.b.bind(elseL)
	for n := 1 + g.pick(3); n > 0; n-- {
		g.simpleItem()
	}
	g.b.bind(endL)
}

// bodyCall calls a page kfunc between memory accesses, then sets the
// registers the call clobbered again.
func (g *generator) bodyCall() {
	base := regBase
	if g.has(GenPointerCasts) && g.chance(0.5) {
		// A full user address as the base, as C code would pass.
		g.b.emit(castToUser(asm.R0, regBase))
		base = asm.R0
	}
	g.pageCall(base)
	for _, r := range scalarRegs {
		if r != asm.R8 && r != asm.R7 && !g.locked[r] {
			g.setScalar(r)
		}
	}
}

// loop is a may_goto loop that a counter ends after a few rounds, long
// before may_goto would: the verifier walks every round. With
// GenPlainLoops it may leave may_goto out.
func (g *generator) loop() {
	plain := g.has(GenPlainLoops) && (!g.has(GenLoops) || g.chance(0.5))
	g.flush()
	c := g.dest()
	g.locked[c] = true
	g.inLoop = true
	g.loops++
	g.b.emit(movImm(c, 0))
	head, out := g.b.newLabel(), g.b.newLabel()
	g.b.bind(head)
	if !plain {
		g.b.jump(asm.Instruction{OpCode: asm.OpMayGoto}, out)
	}
	g.b.emit(aluK(asm.ClassALU64, asm.ALUAdd, c, 1))
	g.b.jump(asm.Instruction{OpCode: asm.JumpOpCode(asm.ClassJMP, asm.JumpJGT, asm.SourceK), Dst: c, Constant: int64(1 + g.pick(5))}, out)
	for n := 1 + g.pick(5); n > 0; n-- {
		g.simpleItem()
	}
	g.b.jump(asm.Instruction{OpCode: asm.OpJA}, head)
	g.b.bind(out)
	g.inLoop = false
	delete(g.locked, c)
}

// subCall calls a subprogram with an arena pointer in r1 and the scalars
// r2-r5, and folds its result into r8.
func (g *generator) subCall() {
	// A new subprogram is called at once: one nobody calls is unreachable.
	l := genLabel(-1)
	if len(g.subs) == 0 || len(g.subs) < 2 && g.chance(0.3) {
		l = g.b.newLabel()
		g.subs = append(g.subs, l)
	} else {
		l = g.subs[g.pick(len(g.subs))]
	}
	arg := regPtr
	if g.chance(0.3) || !g.has(GenWildAddr) {
		// The subprogram computes page addresses from its r1, and r9
		// may point anywhere.
		arg = regBase
	}
	g.b.emit(movReg(asm.R1, arg))
	g.b.jump(asm.Instruction{OpCode: asm.OpCall, Src: asm.PseudoCall}, l)
	g.b.emit(aluK(asm.ClassALU64, asm.ALUMul, asm.R8, 3), aluX(asm.ClassALU64, asm.ALUAdd, asm.R8, asm.R0))
	for _, r := range scalarRegs {
		if r != asm.R8 && r != asm.R7 && !g.locked[r] {
			g.setScalar(r)
		}
	}
}

// subprogram emits the body of a subprogram at l. It sets up the same
// register roles as the entry function: r6 and r9 arena pointers (from
// r1), its own stack slots, scalars elsewhere; r2-r5 keep the caller's.
func (g *generator) subprogram(l genLabel) {
	g.b.bind(l)
	g.inSub = true
	g.b.emit(movReg(regBase, asm.R1), movReg(regPtr, asm.R1))
	if off := int32(g.pick(8) * 512); off != 0 {
		g.b.emit(aluK(asm.ClassALU64, asm.ALUAdd, regPtr, off))
	}
	g.b.emit(store(asm.SizeDW, asm.R10, regBase, ptrSpillSlot))
	for i := 1; i <= stackSlots; i++ {
		g.b.emit(storeImm(asm.SizeDW, asm.R10, int16(-8*i), g.imm32()))
	}
	for _, r := range []asm.Register{asm.R0, asm.R1, asm.R7, asm.R8} {
		g.setScalar(r)
	}
	for i := g.cfg.body()/4 + 1; i > 0; i-- {
		g.item()
	}
	g.flush()
	g.epilogue()
	g.inSub = false
}

// funcsOf lists the functions of a program: the entry and every
// subprogram a call targets, in order.
func funcsOf(insns asm.Instructions) []object.Func {
	offs := insns.Offsets()
	starts := map[int]bool{0: true}
	for i, ins := range insns {
		if ins.IsSubprogCall() {
			if t, ok := insns.Target(offs, i); ok {
				starts[t] = true
			}
		}
	}
	var fs []object.Func
	for i := range insns {
		if starts[i] {
			name := RandomProgram
			if i > 0 {
				name = fmt.Sprintf("sub%d", len(fs))
			}
			fs = append(fs, object.Func{Name: name, Index: i, Slot: offs[i]})
		}
	}
	return fs
}

// --- epilogue ------------------------------------------------------------

// mixK is an odd multiplier that spreads every input bit over the result.
const mixK = -0x61c88647

func (g *generator) epilogue() {
	// Some registers to memory, where all 64 bits are compared.
	for n := g.pick(4); n > 0; n-- {
		g.b.emit(store(asm.SizeDW, regBase, g.scalar(), int16(8*g.pick(512))))
	}
	mix := func(r asm.Register) {
		g.b.emit(aluK(asm.ClassALU64, asm.ALUMul, asm.R0, mixK), aluX(asm.ClassALU64, asm.ALUXor, asm.R0, r))
	}
	for _, r := range scalarRegs[1:] {
		mix(r)
	}
	g.b.emit(aluX(asm.ClassALU, asm.ALUMov, asm.R1, regPtr))
	mix(asm.R1)
	for i := 1; i <= stackSlots; i++ {
		g.b.emit(load(asm.SizeDW, asm.R1, asm.R10, int16(-8*i)))
		mix(asm.R1)
	}
	// Fold the upper half into the 32-bit retval.
	g.b.emit(movReg(asm.R1, asm.R0), aluK(asm.ClassALU64, asm.ALURsh, asm.R1, 32), aluX(asm.ClassALU64, asm.ALUXor, asm.R0, asm.R1))
	g.b.emit(asm.Instruction{OpCode: asm.OpExit})
}

// --- running --------------------------------------------------------------

// ErrGenerator marks a generated program the kernel refused to load: a
// bug in the generator, not in an engine.
var ErrGenerator = errors.New("generated program rejected by the kernel")

// RandomReport is the outcome of one random program.
type RandomReport struct {
	Seed  int64
	Spec  *object.Spec
	Steps []Step
	Diff  *DiffReport
}

// RunRandom generates the program of seed and runs it on both engines.
// A kernel verifier rejection is returned wrapped in ErrGenerator, with the
// verifier log; bpfarena.ErrNotSupported when the kernel engine cannot
// run here.
func RunRandom(seed int64, cfg GenConfig) (*RandomReport, error) {
	r := rand.New(rand.NewSource(seed))
	spec := Generate(r, cfg)
	runs := cfg.Runs
	if runs <= 0 {
		// A second run meets the pages the first left behind.
		runs = 1 + r.Intn(2)
	}
	rep := &RandomReport{Seed: seed, Spec: spec}
	for range runs {
		rep.Steps = append(rep.Steps, Step{Program: RandomProgram})
	}
	d, err := differential(spec, rep.Steps)
	if err != nil {
		if log, ok := kernelRejection(err); ok && !errors.Is(err, bpfarena.ErrNotSupported) {
			return rep, fmt.Errorf("%w (seed %d): %v\n%s", ErrGenerator, seed, err, log)
		}
		return rep, err
	}
	rep.Diff = d
	return rep, nil
}

// kernelRejection reports whether err is the kernel verifier refusing a
// program, with the verifier log.
func kernelRejection(err error) (string, bool) {
	var ve *bpfarena.VerifierError
	if errors.As(err, &ve) && ve.Engine == bpfarena.Kernel {
		return ve.Log, true
	}
	var ke *kernel.VerifierError
	if errors.As(err, &ke) {
		return ke.Log, true
	}
	return "", false
}

// probeProgram builds a program that uses feature f in every form the
// generator can emit it, and nothing else optional.
func probeProgram(f GenFeature, cfg GenConfig) *object.Spec {
	cfg.Disable = ^f
	g := newGenerator(rand.New(rand.NewSource(1)), cfg)
	g.pages = cfg.pages()
	g.arena = &object.MapSpec{Name: "arena", Type: object.Arena, MaxEntries: g.pages, Flags: object.FlagMmapable, Section: ".maps"}
	g.spec = &object.Spec{Path: "probe.bpf.o", License: "GPL", Maps: []*object.MapSpec{g.arena}}
	g.prologue()
	op := func(size asm.Size, base asm.Register, a asm.AtomicOp, src asm.Register) asm.Instruction {
		return asm.Instruction{OpCode: asm.MemOpCode(asm.ClassSTX, asm.ModeATOMIC, size), Dst: base, Src: src, Constant: int64(a)}
	}
	switch f {
	case GenSignExtArenaLoad:
		for _, s := range sizes[:3] {
			g.b.emit(asm.Instruction{OpCode: asm.MemOpCode(asm.ClassLDX, asm.ModeMEMSX, s), Dst: asm.R1, Src: regBase})
		}
	case GenArenaFetchBitwise:
		for _, s := range []asm.Size{asm.SizeW, asm.SizeDW} {
			for _, a := range []asm.AtomicOp{asm.AtomicOr, asm.AtomicAnd, asm.AtomicXor} {
				g.b.emit(op(s, regBase, a|asm.AtomicFetch, asm.R1))
			}
		}
	case GenLoadAcquire:
		for _, s := range sizes {
			g.b.emit(op(s, asm.R1, asm.AtomicLoadAcquire, regBase), op(s, regBase, asm.AtomicStoreRelease, asm.R2))
		}
	case GenPointerALU:
		for _, o := range []asm.ALUOp{asm.ALUAdd, asm.ALUMul, asm.ALULsh, asm.ALUDiv, asm.ALUMod, asm.ALUXor} {
			g.b.emit(aluK(asm.ClassALU64, o, regPtr, 33), aluX(asm.ClassALU, o, regPtr, asm.R1))
		}
		g.b.emit(movReg(regPtr, regBase))
	case GenBodyCalls:
		g.bodyCall()
	case GenLoops, GenPlainLoops:
		g.loop()
	case GenStorePointer:
		for _, s := range sizes {
			g.b.emit(store(s, regBase, regPtr, 0), store(s, regPtr, regBase, 8))
		}
	case GenPointerCasts:
		g.b.emit(castToUser(asm.R1, regPtr), castToArena(regPtr, asm.R1), aluX(asm.ClassALU, asm.ALUMov, asm.R1, asm.R1))
		g.bodyCall()
	case GenReserve:
		g.loadMap(asm.R1)
		g.pageAddr(regBase, 3)
		g.b.emit(movImm(asm.R3, 1))
		g.callKfunc("bpf_arena_reserve_pages")
		for _, r := range scalarRegs {
			if r != asm.R8 && r != asm.R7 {
				g.setScalar(r)
			}
		}
	case GenStackAtomics:
		for _, s := range []asm.Size{asm.SizeW, asm.SizeDW} {
			for _, a := range atomicOps {
				ins := op(s, asm.R10, a, asm.R1)
				ins.Offset = -16
				g.b.emit(ins)
			}
		}
	}
	g.flush()
	g.epilogue()
	if err := g.b.resolve(); err != nil {
		panic(err)
	}
	g.spec.Programs = []*object.ProgramSpec{{
		Name: RandomProgram, Section: "syscall", Type: object.Syscall,
		Sleepable: true, Flags: object.ProgFlagSleepable, License: "GPL",
		Instructions: g.b.insns, Relocations: g.b.relocs,
	}}
	for _, e := range g.ext {
		g.spec.Externs = append(g.spec.Externs, e)
	}
	return g.spec
}

// allFeatures lists every generator feature.
var allFeatures = []GenFeature{GenSignExtArenaLoad, GenArenaFetchBitwise, GenLoadAcquire, GenPointerALU,
	GenBodyCalls, GenLoops, GenStorePointer, GenPointerCasts, GenReserve, GenStackAtomics, GenStraddle, GenNodes, GenNullAddr, GenDirtyFetch32, GenMapValue, GenPointerCompare, GenNoUserConv, GenGlobals, GenSubprogs, GenWildAddr, GenFollow, GenPlainLoops}

// ProbeFeatures loads, on the kernel, one program per generator feature
// and returns the features whose program the verifier rejects: constructs
// this kernel (or its JIT) does not support, which the generator must then
// leave out. The error wraps bpfarena.ErrNotSupported when the kernel
// engine cannot run here.
func ProbeFeatures(cfg GenConfig) (GenFeature, error) {
	var off GenFeature
	for _, f := range allFeatures {
		spec := probeProgram(f, cfg)
		c, err := bpfarena.Load(spec, bpfarena.Options{Engine: bpfarena.Kernel})
		if err == nil {
			c.Close()
			continue
		}
		if _, ok := kernelRejection(err); ok && !errors.Is(err, bpfarena.ErrNotSupported) {
			off |= f
			continue
		}
		// A feature needing a kfunc this kernel lacks.
		if errors.Is(err, syscall.ESRCH) || errors.Is(err, bpfarena.ErrMissingKfunc) {
			off |= f
			continue
		}
		return 0, fmt.Errorf("probing %v: %w", f, err)
	}
	return off, nil
}
