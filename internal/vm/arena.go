package vm

import (
	"fmt"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/object"
)

// Page states of an arena page. The state array is the single source of
// truth for what BPF sees: an access to a page that is not pageAllocated
// behaves like an access to an unmapped kernel page (fault, load gives 0,
// store skipped).
const (
	pageAbsent    uint32 = 0
	pageAllocated uint32 = 1
	pageReserved  uint32 = 2
)

const (
	pageShift = 12
	pageSize  = 1 << pageShift
	// maxArenaPages is the kernel's limit: an arena spans at most 4 GiB.
	maxArenaPages = 1 << 20
	// maxClearPages is how many pages an allocation zeroes by writing;
	// larger runs are given back to the OS instead, which is cheaper
	// than faulting every page in only to clear it.
	maxClearPages = 16
)

// vmArena is the vm engine's arena: a private mapping at user_vm_start,
// a per-page state array and the lock that orders page operations from
// BPF (kfuncs) and from Go (arena.Backend).
type vmArena struct {
	start  uint64 // user_vm_start
	hi     uint64 // start with the low 32 bits cleared
	pages  uint32 // usable pages
	size   uint64 // pages * pageSize
	flags  uint32
	maxEnt uint32
	mem    []byte // the mapping, size bytes at start
	state  []uint32
	free   rangeTree // pages neither allocated nor reserved; under mu
	// kernel is the modelled kernel, for its allocator's behaviour.
	kernel *kversion.Model
	// extra holds pages the kernel maps in its 4 GiB window outside the
	// arena's user range (see freePages), by window page number; BPF
	// reaches them, user space cannot. Replaced, never changed, under mu.
	extra atomic.Pointer[map[uint32][]byte]

	mu     sync.Mutex // serialises alloc, free, reserve and fault-in
	closed atomic.Bool
	pub    *arena.Arena
	// sh, for an arena pinned in a directory, is the state shared with
	// other processes: the page states above live in it, and the free
	// range tree is kept there between operations.
	sh *sharedArena
}

// Journal kinds: the page operation a process was doing, so that if it
// dies holding the shared lock the next one can finish it.
const (
	opNone uint32 = iota
	opAlloc
	opFree
	opReserve
	opTouch
)

// lock takes the arena for one page operation: the process's mutex and,
// when shared, the cross-process lock, with this process's view of the
// free ranges brought up to date and the operation noted in the journal.
func (a *vmArena) lock(op uint32, addr, count uint64) {
	a.mu.Lock()
	if a.sh != nil {
		a.sh.acquire(a)
		a.sh.begin(op, addr, count)
	}
}

func (a *vmArena) unlock() {
	if a.sh != nil {
		a.sh.commit(a)
	}
	a.mu.Unlock()
}

// redo finishes an operation a dead process left in the journal. Every
// operation is idempotent from the state before it (the last committed
// free ranges), so running it again leaves the arena as if it had
// completed; the pages of an allocation whose caller died stay allocated.
func (a *vmArena) redo(op uint32, addr, count uint64) {
	switch op {
	case opAlloc:
		a.allocLocked(addr, uint32(count))
	case opFree:
		a.freeLocked(addr, uint32(count))
	case opReserve:
		a.reserveLocked(addr, uint32(count))
	case opTouch:
		a.touchLocked(addr, count)
	}
}

// newArena maps the arena described by spec and copies the initial image
// of its globals to offset 0.
func newArena(spec *object.MapSpec, pin *pinDir) (*vmArena, error) {
	// The kernel's EINVAL cases for an arena map, each with its reason.
	const arenaFlags = object.FlagMmapable | object.FlagSegvOnFault | object.FlagNoUserConv
	for _, c := range []struct {
		bad bool
		why string
	}{
		{spec.KeySize != 0 || spec.ValueSize != 0,
			fmt.Sprintf("key size %d and value size %d, where an arena has neither (both must be 0)", spec.KeySize, spec.ValueSize)},
		{spec.MaxEntries == 0, "max_entries 0: it counts the arena's pages and must be at least 1"},
		{spec.Flags&^uint32(arenaFlags) != 0,
			fmt.Sprintf("unknown map_flags %#x (an arena takes BPF_F_MMAPABLE, BPF_F_SEGV_ON_FAULT and BPF_F_NO_USER_CONV)", spec.Flags&^uint32(arenaFlags))},
		{spec.Flags&object.FlagMmapable == 0, "map_flags without BPF_F_MMAPABLE, which an arena requires"},
	} {
		if c.bad {
			return nil, fmt.Errorf("arena %s: %s: %w", spec.Name, c.why, errInval)
		}
	}
	if spec.MaxEntries > maxArenaPages {
		return nil, fmt.Errorf("arena %s: %d pages is more than 4 GiB: %w", spec.Name, spec.MaxEntries, errTooBig)
	}
	size := uint64(spec.MaxEntries) * pageSize
	if spec.MapExtra%pageSize != 0 {
		return nil, fmt.Errorf("arena %s: map_extra %#x is not page aligned: %w", spec.Name, spec.MapExtra, errInval)
	}
	if spec.MapExtra != 0 && spec.MapExtra>>32 != (spec.MapExtra+size-1)>>32 {
		return nil, fmt.Errorf("arena %s: [%#x, %#x) crosses a 4 GiB boundary: %w",
			spec.Name, spec.MapExtra, spec.MapExtra+size, errRange)
	}
	var mem []byte
	var err error
	fd := -1
	if pin != nil {
		mem, fd, err = pin.mapPinnedArena(spec, size)
	} else {
		mem, err = mapArena(spec.MapExtra, size)
	}
	if err != nil {
		return nil, fmt.Errorf("arena %s: %w", spec.Name, err)
	}
	a := &vmArena{
		kernel: kversion.Default(),
		start:  addrOf(mem),
		pages:  spec.MaxEntries,
		size:   size,
		flags:  spec.Flags,
		maxEnt: spec.MaxEntries,
		mem:    mem,
		state:  make([]uint32, spec.MaxEntries),
	}
	a.hi = a.start &^ 0xffffffff
	a.free.set(0, a.pages)
	if pin != nil {
		if err := pin.attachShared(a, fd); err != nil {
			unmapArena(mem)
			return nil, fmt.Errorf("arena %s: %w", spec.Name, err)
		}
		if !pin.created {
			// The pinned arena keeps its pages and globals.
			a.pub = arena.Wrap(arena.Geometry{Start: a.start, Pages: a.pages, MaxEntries: a.maxEnt, Flags: a.flags}, a.mem, a)
			return a, nil
		}
		a.sh.store(a)
	}
	if n := uint64(len(spec.Contents)); n > 0 {
		if n > size {
			a.unmap()
			return nil, fmt.Errorf("arena %s: %d bytes of globals do not fit: %w", spec.Name, n, errTooBig)
		}
		// libbpf copies the image from user space, which faults the
		// pages in; do the same.
		if err := a.Touch(a.start, n); err != nil {
			a.unmap()
			return nil, err
		}
		copy(a.mem, spec.Contents)
	}
	a.pub = arena.Wrap(arena.Geometry{Start: a.start, Pages: a.pages, MaxEntries: a.maxEnt, Flags: a.flags}, a.mem, a)
	return a, nil
}

// unmap closes the arena. The public wrapper is closed first (it waits for
// Go calls in flight and refuses later ones), then the memory goes under
// mu, so no page operation that got past its closed check can be writing
// to it. Programs are not running: the collection's Close waits for them.
func (a *vmArena) unmap() {
	if a.pub != nil {
		a.pub.Close()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed.Swap(true) {
		return
	}
	unmapArena(a.mem)
	if a.sh != nil {
		a.sh.close()
	}
}

// pgoff is the kernel's compute_pgoff: the page of a user address,
// counting only its low 32 bits.
func (a *vmArena) pgoff(uaddr uint64) uint32 {
	return uint32(uint32(uaddr)-uint32(a.start)) >> pageShift
}

// resolve maps a BPF arena access to an offset in mem. The kernel computes
// kern_vm_start + (u64)(u32)reg + (s64)off; its 4 GiB window mirrors the
// low 32 bits of user addresses, so the same access in user terms is
// hi32(user_vm_start) + (u32)reg + off. Anything outside the usable pages
// (the guard below, unused parts of the window, the guard above) is absent.
func (a *vmArena) resolve(reg uint64, off int16, size uint64) (uint64, bool) {
	ua := a.hi + uint64(uint32(reg)) + uint64(int64(off))
	rel := ua - a.start
	if rel >= a.size || a.size-rel < size {
		return 0, false
	}
	if atomic.LoadUint32(&a.state[rel>>pageShift]) != pageAllocated {
		return 0, false
	}
	// A straddling access faults if either page is absent, and then
	// touches neither.
	if last := rel + size - 1; last>>pageShift != rel>>pageShift &&
		atomic.LoadUint32(&a.state[last>>pageShift]) != pageAllocated {
		return 0, false
	}
	return rel, true
}

// extraAt returns the bytes of a BPF access to a page the kernel would
// have mapped outside the arena, if there is one.
func (a *vmArena) extraAt(reg uint64, off int16, size uint64) ([]byte, bool) {
	ex := a.extra.Load()
	if ex == nil {
		return nil, false
	}
	x := int64(uint32(reg)) + int64(off)
	if x < 0 || x+int64(size) > 1<<32 {
		return nil, false
	}
	w := uint32(uint64(x) >> pageShift)
	if uint32((uint64(x)+size-1)>>pageShift) != w {
		return nil, false
	}
	p, ok := (*ex)[w]
	if !ok {
		return nil, false
	}
	o := uint64(x) & (pageSize - 1)
	return p[o : o+size : o+size], true
}

// setExtra adds (b != nil) or drops a page of extra; mu is held.
func (a *vmArena) setExtra(w uint32, b []byte) {
	old := a.extra.Load()
	if old == nil && b == nil {
		return
	}
	if old != nil {
		if _, ok := (*old)[w]; !ok && b == nil {
			return
		}
	}
	n := make(map[uint32][]byte)
	if old != nil {
		for k, v := range *old {
			n[k] = v
		}
	}
	if b != nil {
		n[w] = b
	} else {
		delete(n, w)
	}
	if len(n) == 0 {
		a.extra.Store(nil)
		return
	}
	a.extra.Store(&n)
}

// faultAddr is the address the kernel reports for a faulting access.
func (a *vmArena) faultAddr(reg uint64, off int16) uint64 {
	return a.hi | uint64(uint32(reg)+uint32(int32(off)))
}

// userAddr is the full user address of page pgoff, as the kfuncs return it.
func (a *vmArena) userAddr(pgoff uint32) uint64 {
	return a.hi + uint64(uint32(a.start+uint64(pgoff)*pageSize))
}

// allocPages is bpf_arena_alloc_pages: 0 means NULL.
func (a *vmArena) allocPages(uaddr uint64, count uint32, flags uint64) uint64 {
	if flags != 0 || count == 0 || count > a.pages || uaddr%pageSize != 0 {
		return 0
	}
	a.lock(opAlloc, uaddr, uint64(count))
	defer a.unlock()
	// Checked under mu, which unmap takes: the memory stays mapped until
	// this returns.
	if a.closed.Load() {
		return 0
	}
	return a.allocLocked(uaddr, count)
}

func (a *vmArena) allocLocked(uaddr uint64, count uint32) uint64 {
	var pg uint32
	if uaddr != 0 {
		pg = a.pgoff(uaddr)
		if uint64(pg)+uint64(count) > uint64(a.pages) || !a.free.isSet(pg, count) {
			return 0
		}
	} else {
		var ok bool
		if !a.kernel.BestFitNull {
			pg, ok = a.free.findLowest(count)
		} else {
			pg, ok = a.free.find(count)
		}
		if !ok {
			return 0
		}
	}
	a.free.clear(pg, count)
	// A free with a pointer below user_vm_start can leave the kernel's
	// range tree with pages past the arena (see freePages); the kernel
	// then hands them out at addresses outside the user mapping. Only
	// pages inside the arena exist here.
	if lo, hi := pg, min(uint64(pg)+uint64(count), uint64(a.pages)); uint64(lo) < hi {
		a.zero(lo, uint32(hi)-lo)
		for i := uint64(lo); i < hi; i++ {
			atomic.StoreUint32(&a.state[i], pageAllocated)
		}
	}
	// The kernel maps the rest at window offset (u32)(start + pgoff*4096).
	for i := max(uint64(pg), uint64(a.pages)); i < uint64(pg)+uint64(count); i++ {
		a.setExtra(uint32(a.start+i*pageSize)>>pageShift, make([]byte, pageSize))
	}
	return a.userAddr(pg)
}

// zero makes pages [pg, pg+n) read as zero. Absent pages normally are
// zero already (free drops them), but a store racing with a free may have
// left bytes behind, and allocated pages must come zeroed.
func (a *vmArena) zero(pg, n uint32) {
	b := a.mem[uint64(pg)*pageSize : uint64(pg+n)*pageSize]
	// Only Linux guarantees that dropped anonymous pages read as zero.
	if n <= maxClearPages || runtime.GOOS != "linux" {
		clear(b)
		return
	}
	a.drop(pg, pg+n)
}

// drop gives the memory of pages [lo, hi) back; they read as zero after.
func (a *vmArena) drop(lo, hi uint32) {
	if a.sh != nil {
		a.sh.punch(a.mem, lo, hi)
		return
	}
	dropPages(a.mem[uint64(lo)*pageSize : uint64(hi)*pageSize])
}

// freePages is bpf_arena_free_pages.
func (a *vmArena) freePages(uaddr uint64, count uint32) {
	if uaddr == 0 || count == 0 {
		return
	}
	a.lock(opFree, uaddr, uint64(count))
	defer a.unlock()
	if a.closed.Load() {
		return
	}
	a.freeLocked(uaddr, count)
}

func (a *vmArena) freeLocked(uaddr uint64, count uint32) {
	u32 := uint64(uint32(uaddr)) &^ (pageSize - 1)
	full := a.hi + u32
	end := full + uint64(count)*pageSize
	if lim := a.start + a.size; end > lim {
		end = lim
	}
	if full >= end {
		return
	}
	if full < a.start && !a.kernel.FreeBelowStartWraps {
		return
	}
	n := uint32((end - full) >> pageShift)
	// As in the kernel: the range tree gets [pgoff, pgoff+n) even when
	// full lies below user_vm_start and pgoff wraps past the arena, while
	// the pages unmapped are those really at full .. end.
	pg := a.pgoff(full)
	a.free.set(pg, n)
	// The kernel's page walk covers window offsets u32 .. u32+n pages;
	// below the arena it finds only extra pages.
	for x := u32; x < u32+uint64(n)*pageSize && a.hi+x < a.start; x += pageSize {
		a.setExtra(uint32(x>>pageShift), nil)
	}
	if full < a.start {
		full = a.start
	}
	if full >= end {
		return
	}
	lo, hi := (full-a.start)>>pageShift, (end-a.start)>>pageShift
	for i := lo; i < hi; i++ {
		atomic.StoreUint32(&a.state[i], pageAbsent)
	}
	a.drop(uint32(lo), uint32(hi))
}

// reservePages is bpf_arena_reserve_pages: 0, -EINVAL or -EBUSY.
func (a *vmArena) reservePages(uaddr uint64, count uint32) int64 {
	if count == 0 {
		return 0
	}
	if uaddr%pageSize != 0 {
		return 0
	}
	// NULL is no special case: with a start whose low 32 bits are not
	// zero it lies outside the arena, else it is page 0.
	pg := a.pgoff(uaddr)
	if uint64(pg)+uint64(count) > uint64(a.pages) {
		return -int64(eINVAL)
	}
	a.lock(opReserve, uaddr, uint64(count))
	defer a.unlock()
	if a.closed.Load() {
		return -int64(eINVAL)
	}
	return a.reserveLocked(uaddr, count)
}

func (a *vmArena) reserveLocked(uaddr uint64, count uint32) int64 {
	pg := a.pgoff(uaddr)
	if !a.free.isSet(pg, count) {
		return -int64(eBUSY)
	}
	a.free.clear(pg, count)
	for i := pg; i < pg+count; i++ {
		atomic.StoreUint32(&a.state[i], pageReserved)
	}
	return 0
}

// Alloc implements arena.Backend.
func (a *vmArena) Alloc(addr uint64, count uint32) (uint64, error) {
	if a.closed.Load() {
		return 0, arena.ErrClosed
	}
	if addr != 0 && !a.inside(addr) {
		return 0, fmt.Errorf("arena: alloc at %#x: %w", addr, arena.ErrInvalid)
	}
	if count == 0 || addr%pageSize != 0 {
		return 0, fmt.Errorf("arena: alloc of %d pages at %#x: %w", count, addr, arena.ErrInvalid)
	}
	p := a.allocPages(addr, count, 0)
	if p == 0 {
		if a.closed.Load() {
			return 0, arena.ErrClosed
		}
		if addr != 0 {
			if uint64(count) > (a.size-(addr-a.start))/pageSize {
				return 0, fmt.Errorf("arena: alloc of %d pages at %#x runs past the arena's end %#x: %w",
					count, addr, a.start+a.size, arena.ErrInvalid)
			}
			// A fixed address fails only on pages already taken, as
			// bpf_arena_alloc_pages does (the kernel backend says so too).
			return 0, fmt.Errorf("arena: alloc of %d pages at %#x: %w", count, addr, arena.ErrBusy)
		}
		return 0, fmt.Errorf("arena: alloc of %d pages: %w", count, arena.ErrNoMemory)
	}
	return p, nil
}

// inside reports whether addr, a full user address, lies in the arena.
func (a *vmArena) inside(addr uint64) bool {
	return addr >= a.start && addr-a.start < a.size
}

// Free implements arena.Backend.
func (a *vmArena) Free(addr uint64, count uint32) error {
	if a.closed.Load() {
		return arena.ErrClosed
	}
	if addr != 0 && !a.inside(addr) {
		return fmt.Errorf("arena: free at %#x: %w", addr, arena.ErrInvalid)
	}
	a.freePages(addr, count)
	if a.closed.Load() {
		return arena.ErrClosed
	}
	return nil
}

// Reserve implements arena.Backend.
func (a *vmArena) Reserve(addr uint64, count uint32) error {
	if a.closed.Load() {
		return arena.ErrClosed
	}
	if addr != 0 && !a.inside(addr) {
		return fmt.Errorf("arena: reserve at %#x: %w", addr, arena.ErrInvalid)
	}
	r := a.reservePages(addr, count)
	if a.closed.Load() {
		return arena.ErrClosed
	}
	switch r {
	case 0:
		if count != 0 && addr%pageSize != 0 {
			return fmt.Errorf("arena: reserve at unaligned %#x: %w", addr, arena.ErrInvalid)
		}
		return nil
	case -int64(eBUSY):
		return fmt.Errorf("arena: reserve %d pages at %#x: %w", count, addr, arena.ErrBusy)
	default:
		return fmt.Errorf("arena: reserve %d pages at %#x: %w", count, addr, arena.ErrInvalid)
	}
}

// Present implements arena.Backend.
func (a *vmArena) Present(pgoff uint32) bool {
	return pgoff < a.pages && !a.closed.Load() && atomic.LoadUint32(&a.state[pgoff]) == pageAllocated
}

// errSegv is what Touch reports for an absent page of an arena created
// with BPF_F_SEGV_ON_FAULT, where the kernel would raise SIGSEGV.
var errSegv = fmt.Errorf("arena: access to an absent page with BPF_F_SEGV_ON_FAULT: %w", arena.ErrInvalid)

// Touch implements arena.Backend: a user space access faults absent and
// reserved pages in as zero pages, unless the arena asks for SIGSEGV.
func (a *vmArena) Touch(addr uint64, n uint64) error {
	if a.closed.Load() {
		return arena.ErrClosed
	}
	if n == 0 {
		return nil
	}
	if addr < a.start || n > a.size || addr-a.start > a.size-n {
		return fmt.Errorf("arena: [%#x, +%d) is outside the arena: %w", addr, n, arena.ErrInvalid)
	}
	first := uint32((addr - a.start) >> pageShift)
	last := uint32((addr - a.start + n - 1) >> pageShift)
	// Fast path: everything present already.
	all := true
	for i := first; i <= last; i++ {
		if atomic.LoadUint32(&a.state[i]) != pageAllocated {
			all = false
			break
		}
	}
	if all {
		return nil
	}
	a.lock(opTouch, addr, n)
	defer a.unlock()
	if a.closed.Load() {
		return arena.ErrClosed
	}
	return a.touchLocked(addr, n)
}

func (a *vmArena) touchLocked(addr, n uint64) error {
	segv := a.flags&object.FlagSegvOnFault != 0
	first := uint32((addr - a.start) >> pageShift)
	last := uint32((addr - a.start + n - 1) >> pageShift)
	for i := first; i <= last; i++ {
		if a.state[i] == pageAllocated {
			continue
		}
		if segv {
			return fmt.Errorf("arena: page %d at %#x: %w", i, a.start+uint64(i)*pageSize, errSegv)
		}
		a.free.clear(i, 1)
		a.zero(i, 1)
		atomic.StoreUint32(&a.state[i], pageAllocated)
	}
	return nil
}

// presentPages counts present pages.
func (a *vmArena) presentPages() int {
	n := 0
	for i := range a.state {
		if atomic.LoadUint32(&a.state[i]) == pageAllocated {
			n++
		}
	}
	return n
}
