//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/sys"
	"github.com/bpfarena/bpfarena/object"
	"golang.org/x/sys/unix"
)

// Operations of the built-in page program, in the op field of its ctx.
const (
	opAlloc   = 1
	opFree    = 2
	opReserve = 3
	// opFreeRange reserves count pages and frees them again if that
	// worked, which it only does when every page was free: ctx->ret is
	// 0 for an entirely free range, -EBUSY otherwise.
	opFreeRange = 4
	// opProbe tells whether the page at addr is present (ctx->ret 1) by
	// compare-and-exchange (see Present).
	opProbe = 5
)

// pageCtxSize is the size of the page program's ctx:
// struct { u64 op; u64 addr; u64 count; u64 ret; }.
const pageCtxSize = 32

// backend implements arena.Backend for a kernel arena. Page operations go
// through the kernel's own kfuncs, run by a small sleepable syscall program
// on the same arena, so Go and BPF allocations share one allocator and
// follow the same rules.
type backend struct {
	mu    sync.Mutex // serializes ops with Close
	prog  *sys.FD
	geo   arena.Geometry
	noRes bool // the kernel has no bpf_arena_reserve_pages
	// faultZeroes is set where a faulted compare-and-exchange on the
	// arena zeroes r0 instead of leaving it (Linux 7.x: the JIT's fixup
	// clears the register a fetching atomic loads). The probe's sentinel
	// then says nothing, and the fault report on the program's stderr
	// stream tells instead.
	faultZeroes bool
}

// Kernel functions the page program calls.
const (
	kfuncAlloc   = "bpf_arena_alloc_pages"
	kfuncFree    = "bpf_arena_free_pages"
	kfuncReserve = "bpf_arena_reserve_pages"
)

// newBackend builds and loads the page program for the arena km.
func newBackend(km *kmap) (*backend, error) {
	alloc, err := findKernelSym(idxFunc, kfuncAlloc)
	if err != nil {
		return nil, fmt.Errorf("arena page program: %w", err)
	}
	free, err := findKernelSym(idxFunc, kfuncFree)
	if err != nil {
		return nil, fmt.Errorf("arena page program: %w", err)
	}
	reserve, err := findKernelSym(idxFunc, kfuncReserve)
	noRes := err != nil
	insns := pageProgram(int32(km.fd.Uint()), int32(alloc.id), int32(free.id), int32(reserve.id), noRes)
	code := insns.Encode(nil)
	attr := sys.ProgLoadAttr{
		ProgType:  uint32(object.Syscall),
		InsnCnt:   uint32(len(code) / asm.InstructionSize),
		Insns:     sys.SlicePointer(code),
		License:   sys.StringPointer("Dual BSD/GPL"), // the kfuncs are GPL-only
		ProgFlags: sys.ProgFlagSleepable,
		ProgName:  sys.NewObjName("arena_pages"),
	}
	fd, _, err := sys.ProgLoad(&attr, sys.ProgLoadOptions{})
	if err != nil {
		var le *sys.LoadError
		if errors.As(err, &le) {
			return nil, &VerifierError{Program: "arena_pages", Errno: le.Errno, Log: le.Log}
		}
		return nil, err
	}
	b := &backend{
		prog:  fd,
		noRes: noRes,
		geo: arena.Geometry{
			Start:      uint64(sys.Addr(km.mem)),
			Pages:      uint32(len(km.mem) / arena.PageSize),
			MaxEntries: km.spec.MaxEntries,
			Flags:      km.spec.Flags,
		},
	}
	b.detectFaultMode()
	return b, nil
}

// detectFaultMode finds out what a faulted compare-and-exchange leaves in
// r0 on this kernel, on a page known to be free: where the probe says
// "present" for it, the fault zeroed r0.
func (b *backend) detectFaultMode() {
	if b.noRes {
		return
	}
	for pg := b.geo.Pages; pg > 0; pg-- {
		addr := b.geo.Start + uint64(pg-1)*arena.PageSize
		if ret, err := b.run(opFreeRange, addr, 1); err != nil || ret != 0 {
			continue // not free, or no reserve kfunc
		}
		ret, err := b.run(opProbe, addr, 1)
		if err == nil && ret == 1 {
			b.faultZeroes = true
			sys.ProgStreamRead(b.prog, sys.StreamStderr)
		}
		return
	}
}

// Sentinels of the presence probe: two values, so that a page holding one
// of them is still seen as present by the other.
const (
	probeSentinel1 = 0x13579bdf
	probeSentinel2 = 0x2468ace0
)

// pageProgram is the page program:
//
//	r6 = ctx; r2 = ctx->addr; r3 = ctx->count; r7 = ctx->op; r1 = &arena
//	switch op: alloc(r1, r2, r3, NUMA_NO_NODE, 0) -> ctx->ret
//	           free(r1, r2, r3)
//	           reserve(r1, r2, r3) -> ctx->ret
//	           probe: for S in sentinels: r0 = S; cmpxchg(arena_cast(r2), r0, S)
//	                  ctx->ret = 1 if r0 != S for either, else 0
//	           free range: ctx->ret = reserve(r1, r2, r3); if 0: free(r1, r2, r3)
//	returns 0, or -EINVAL for an unknown op.
//
// The free range block comes last because it holds an ld_imm64 (two
// slots), and the jump offsets to the blocks are counted in instructions.
func pageProgram(mapFD, alloc, free, reserve int32, noReserve bool) asm.Instructions {
	ldx := asm.MemOpCode(asm.ClassLDX, asm.ModeMEM, asm.SizeDW)
	stx := asm.MemOpCode(asm.ClassSTX, asm.ModeMEM, asm.SizeDW)
	atomic := asm.MemOpCode(asm.ClassSTX, asm.ModeATOMIC, asm.SizeDW)
	mov := asm.ALUOpCode(asm.ClassALU64, asm.ALUMov, asm.SourceX)
	movK := asm.ALUOpCode(asm.ClassALU64, asm.ALUMov, asm.SourceK)
	jeq := asm.JumpOpCode(asm.ClassJMP, asm.JumpJEQ, asm.SourceK)
	jne := asm.JumpOpCode(asm.ClassJMP, asm.JumpJNE, asm.SourceK)
	call := func(id int32) asm.Instruction {
		return asm.Instruction{OpCode: asm.OpCall, Src: asm.PseudoKfuncCall, Constant: int64(id)}
	}
	ret := func(v int64) []asm.Instruction {
		return []asm.Instruction{{OpCode: movK, Dst: asm.R0, Constant: v}, {OpCode: asm.OpExit}}
	}
	storeRet := asm.Instruction{OpCode: stx, Dst: asm.R6, Src: asm.R0, Offset: 24}

	var allocB, freeB, reserveB, probeB, rangeB []asm.Instruction
	allocB = append(allocB,
		asm.Instruction{OpCode: movK, Dst: asm.R4, Constant: -1}, // NUMA_NO_NODE
		asm.Instruction{OpCode: movK, Dst: asm.R5, Constant: 0},
		call(alloc), storeRet)
	allocB = append(allocB, ret(0)...)
	freeB = append(freeB, call(free))
	freeB = append(freeB, ret(0)...)
	if noReserve {
		reserveB = ret(-int64(unix.EOPNOTSUPP))
		rangeB = ret(-int64(unix.EOPNOTSUPP))
	} else {
		reserveB = append(reserveB, call(reserve), storeRet)
		reserveB = append(reserveB, ret(0)...)
		undo := []asm.Instruction{
			{OpCode: asm.OpLoadImm64, Dst: asm.R1, Src: asm.PseudoMapFD, Constant: int64(mapFD)},
			{OpCode: ldx, Dst: asm.R2, Src: asm.R6, Offset: 8},
			{OpCode: ldx, Dst: asm.R3, Src: asm.R6, Offset: 16},
			call(free),
		}
		undo = append(undo, ret(0)...)
		undoSlots := int16(len(undo) + 1) // the ld_imm64 takes two slots
		rangeB = append(rangeB, call(reserve), storeRet,
			asm.Instruction{OpCode: jne, Dst: asm.R0, Constant: 0, Offset: undoSlots})
		rangeB = append(rangeB, undo...)
		rangeB = append(rangeB, ret(0)...)
	}
	// A compare-and-exchange of S with S never changes memory. On a
	// present page r0 gets the page's value; on an absent or reserved
	// page the access faults and is skipped, leaving r0 = S. Only a page
	// holding S itself also leaves S, hence the second sentinel.
	probeB = []asm.Instruction{
		{OpCode: ldx, Dst: asm.R2, Src: asm.R6, Offset: 8},
		{OpCode: asm.OpMov64Reg, Dst: asm.R2, Src: asm.R2, Offset: asm.AddrSpaceCastOffset, Constant: asm.CastToArena},
		{OpCode: movK, Dst: asm.R0, Constant: probeSentinel1},
		{OpCode: movK, Dst: asm.R3, Constant: probeSentinel1},
		{OpCode: atomic, Dst: asm.R2, Src: asm.R3, Constant: int64(asm.AtomicCmpXchg)},
		{OpCode: jne, Dst: asm.R0, Constant: probeSentinel1, Offset: 8}, // to present
		{OpCode: movK, Dst: asm.R0, Constant: probeSentinel2},
		{OpCode: movK, Dst: asm.R3, Constant: probeSentinel2},
		{OpCode: atomic, Dst: asm.R2, Src: asm.R3, Constant: int64(asm.AtomicCmpXchg)},
		{OpCode: jne, Dst: asm.R0, Constant: probeSentinel2, Offset: 4}, // to present
		{OpCode: movK, Dst: asm.R0, Constant: 0},
		storeRet,
		{OpCode: movK, Dst: asm.R0, Constant: 0},
		{OpCode: asm.OpExit},
		{OpCode: movK, Dst: asm.R0, Constant: 1}, // present
		storeRet,
		{OpCode: movK, Dst: asm.R0, Constant: 0},
		{OpCode: asm.OpExit},
	}
	deflt := ret(-int64(unix.EINVAL))

	head := []asm.Instruction{
		{OpCode: mov, Dst: asm.R6, Src: asm.R1},
		{OpCode: ldx, Dst: asm.R2, Src: asm.R6, Offset: 8},
		{OpCode: ldx, Dst: asm.R3, Src: asm.R6, Offset: 16},
		{OpCode: ldx, Dst: asm.R7, Src: asm.R6, Offset: 0},
		{OpCode: asm.OpLoadImm64, Dst: asm.R1, Src: asm.PseudoMapFD, Constant: int64(mapFD)},
	}
	// The conditional jumps follow the head, then the default block, then
	// the op blocks; up to the last block all are one slot per
	// instruction, so the distance to a block is the number of
	// instructions in between.
	blocks := [][]asm.Instruction{allocB, freeB, reserveB, probeB, rangeB}
	ops := []int64{opAlloc, opFree, opReserve, opProbe, opFreeRange}
	var insns asm.Instructions
	insns = append(insns, head...)
	target := len(deflt) // from after the last jump to the first block
	for i := range blocks {
		// Jump i sits len(blocks)-1-i instructions before the end of the jumps.
		insns = append(insns, asm.Instruction{OpCode: jeq, Dst: asm.R7, Constant: ops[i], Offset: int16(len(blocks) - 1 - i + target)})
		target += len(blocks[i])
	}
	insns = append(insns, deflt...)
	for _, b := range blocks {
		insns = append(insns, b...)
	}
	return insns
}

// run runs one op of the page program and returns ctx->ret.
func (b *backend) run(op, addr uint64, count uint32) (uint64, error) {
	ctx := make([]byte, pageCtxSize)
	binary.LittleEndian.PutUint64(ctx[0:], op)
	binary.LittleEndian.PutUint64(ctx[8:], addr)
	binary.LittleEndian.PutUint64(ctx[16:], uint64(count))
	r, err := sys.ProgTestRun(b.prog, sys.ProgRunOptions{CtxIn: ctx})
	if err != nil {
		return 0, fmt.Errorf("arena page program: %w", err)
	}
	if int32(r.Retval) < 0 {
		return 0, fmt.Errorf("arena page program: %w", unix.Errno(-int32(r.Retval)))
	}
	return binary.LittleEndian.Uint64(ctx[24:]), nil
}

func (b *backend) close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.prog.Close()
}

// pageRange checks that [addr, addr+count pages) is a page-aligned range
// inside the arena, which the kfuncs demand of exact placements.
func (b *backend) pageRange(addr uint64, count uint32) error {
	size := uint64(b.geo.Pages) * arena.PageSize
	switch {
	case count == 0 || count > b.geo.Pages:
		return fmt.Errorf("arena: %d pages: %w", count, arena.ErrInvalid)
	case addr%arena.PageSize != 0:
		return fmt.Errorf("arena: address %#x is not page-aligned: %w", addr, arena.ErrInvalid)
	case addr < b.geo.Start || addr-b.geo.Start > size-uint64(count)*arena.PageSize:
		return fmt.Errorf("arena: %d pages at %#x run outside [%#x, %#x): %w",
			count, addr, b.geo.Start, b.geo.Start+size, arena.ErrInvalid)
	}
	return nil
}

// Alloc allocates count pages with bpf_arena_alloc_pages: at addr exactly,
// or where the kernel's allocator chooses (best fit) when addr is 0.
func (b *backend) Alloc(addr uint64, count uint32) (uint64, error) {
	if addr != 0 {
		if err := b.pageRange(addr, count); err != nil {
			return 0, err
		}
	} else if count == 0 || count > b.geo.Pages {
		return 0, fmt.Errorf("arena: %d pages: %w", count, arena.ErrInvalid)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prog.Int() < 0 {
		return 0, arena.ErrClosed
	}
	got, err := b.run(opAlloc, addr, count)
	if err != nil {
		return 0, err
	}
	if got == 0 {
		if addr != 0 {
			return 0, fmt.Errorf("arena: %d pages at %#x: %w", count, addr, arena.ErrBusy)
		}
		return 0, fmt.Errorf("arena: %d pages: %w", count, arena.ErrNoMemory)
	}
	return got, nil
}

// Free frees count pages at addr with bpf_arena_free_pages, which also
// releases reservations and unmaps the pages from user space.
func (b *backend) Free(addr uint64, count uint32) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prog.Int() < 0 {
		return arena.ErrClosed
	}
	_, err := b.run(opFree, addr, count)
	return err
}

// Reserve reserves count pages at addr with bpf_arena_reserve_pages.
func (b *backend) Reserve(addr uint64, count uint32) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prog.Int() < 0 {
		return arena.ErrClosed
	}
	if b.noRes {
		return fmt.Errorf("arena: this kernel has no %s: %w", kfuncReserve, unix.EOPNOTSUPP)
	}
	ret, err := b.run(opReserve, addr, count)
	if err != nil {
		return err
	}
	switch errno := int32(ret); {
	case errno == 0:
		return nil
	case errno == -int32(unix.EBUSY):
		return fmt.Errorf("arena: reserve %d pages at %#x: %w", count, addr, arena.ErrBusy)
	case errno == -int32(unix.EINVAL):
		return fmt.Errorf("arena: reserve %d pages at %#x: %w", count, addr, arena.ErrInvalid)
	default:
		return fmt.Errorf("arena: reserve %d pages at %#x: %w", count, addr, unix.Errno(-errno))
	}
}

// Present reports whether the page at pgoff is present: allocated by a
// kfunc or faulted in from user space, not free and not only reserved. The
// kernel has no query for it; the page program finds out with a
// compare-and-exchange that never changes memory (see pageProgram), which
// lands on a present page and faults harmlessly on any other.
func (b *backend) Present(pgoff uint32) bool {
	if pgoff >= b.geo.Pages {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prog.Int() < 0 {
		return false
	}
	return b.countRange(pgoff, 1) == 1
}

// PresentPages counts the present pages by ranges: one reservation attempt
// over a range that is entirely free (then undone) settles all of it, so a
// sparse arena of a million pages takes a few hundred program runs instead
// of a million. While a range is briefly reserved, a concurrent
// bpf_arena_alloc_pages with a NULL address skips it.
func (b *backend) PresentPages() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prog.Int() < 0 {
		return 0
	}
	if b.noRes {
		n := 0
		for p := uint32(0); p < b.geo.Pages; p++ {
			n += b.countRange(p, 1)
		}
		return n
	}
	return b.countRange(0, b.geo.Pages)
}

// countRange counts the present pages among n pages from pgoff; b.mu is
// held.
func (b *backend) countRange(pgoff, n uint32) int {
	addr := b.geo.Start + uint64(pgoff)*arena.PageSize
	if n == 1 {
		if b.faultZeroes {
			return b.probeByStream(addr)
		}
		ret, err := b.run(opProbe, addr, 1)
		if err != nil {
			return 0
		}
		return int(ret)
	}
	ret, err := b.run(opFreeRange, addr, n)
	if err != nil || int32(ret) != -int32(unix.EBUSY) {
		return 0 // all free (and free again), or outside the arena
	}
	half := n / 2
	return b.countRange(pgoff, half) + b.countRange(pgoff+half, n-half)
}

// probeByStream tells a present page from an absent one where a faulted
// probe zeroes r0: a free page is absent; a page that is not free is
// allocated or only reserved, and only a reserved one makes the probe
// fault, which the kernel reports on the program's stderr stream.
func (b *backend) probeByStream(addr uint64) int {
	ret, err := b.run(opFreeRange, addr, 1)
	if err != nil {
		return 0
	}
	if ret == 0 {
		return 0
	}
	sys.ProgStreamRead(b.prog, sys.StreamStderr)
	if _, err := b.run(opProbe, addr, 1); err != nil {
		return 0
	}
	out, err := sys.ProgStreamRead(b.prog, sys.StreamStderr)
	if err != nil {
		return 0
	}
	if faults, _ := parseFaults("arena_pages", string(out)); len(faults) > 0 {
		return 0
	}
	return 1
}

// Touch is what a user-space access does to absent pages. Without
// BPF_F_SEGV_ON_FAULT the kernel faults a zero page in, so nothing is
// needed. With it the access would kill the process with SIGSEGV, so every
// page must be present already, else Touch returns an error.
func (b *backend) Touch(addr, n uint64) error {
	if b.geo.Flags&object.FlagSegvOnFault == 0 || n == 0 {
		return nil
	}
	first := (addr - b.geo.Start) / arena.PageSize
	last := (addr + n - 1 - b.geo.Start) / arena.PageSize
	for p := first; p <= last; p++ {
		if !b.Present(uint32(p)) {
			return fmt.Errorf("arena: page at %#x is not present and the arena has BPF_F_SEGV_ON_FAULT: %w",
				b.geo.Start+p*arena.PageSize, arena.ErrInvalid)
		}
	}
	return nil
}

// setupArena loads the page program, wraps the arena, and copies the
// initial image of the arena globals to offset 0. With
// BPF_F_SEGV_ON_FAULT a user-space write to an absent page would kill the
// process, so those pages are allocated through the kfunc first.
func (c *collection) setupArena(km *kmap) error {
	b, err := newBackend(km)
	if err != nil {
		return err
	}
	c.backend = b
	c.arena = arena.Wrap(b.geo, km.mem, b)
	contents := km.spec.Contents
	if len(contents) == 0 || km.reused {
		// A pinned arena keeps its pages and globals.
		return nil
	}
	if len(contents) > len(km.mem) {
		return fmt.Errorf("arena %s: %d bytes of arena globals do not fit in %d pages: %w",
			km.spec.Name, len(contents), km.spec.MaxEntries, unix.E2BIG)
	}
	if km.spec.Flags&object.FlagSegvOnFault != 0 {
		pages := uint32((len(contents) + arena.PageSize - 1) / arena.PageSize)
		if _, err := b.Alloc(b.geo.Start, pages); err != nil {
			return fmt.Errorf("arena %s: allocate the pages of the arena globals: %w", km.spec.Name, err)
		}
	}
	copy(km.mem, contents)
	return nil
}
