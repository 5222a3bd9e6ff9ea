package vm

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bpfarena/bpfarena/internal/engine"
)

const (
	frameSize = 512 // stack bytes of one frame
	maxFrames = 8   // call depth limit, as the kernel's MAX_CALL_FRAMES
	stackSize = frameSize * maxFrames
	// maxLoops is the may_goto budget of one function invocation, the
	// kernel's BPF_MAX_LOOPS.
	maxLoops = 8 << 20
	// DefaultInsnBudget bounds one run when Options.InsnBudget is 0.
	DefaultInsnBudget = 1 << 28
	// maxFaults bounds the faults one run records; a program faulting
	// in a loop would otherwise grow the list without end.
	maxFaults = 1 << 16
)

// Fault kinds, shortened for the generated interpreter cases.
const (
	FaultReadKind  = engine.FaultRead
	FaultWriteKind = engine.FaultWrite
)

// frame is what a subprogram call saves: the callee-saved registers, the
// frame pointer, the return index and the caller's may_goto budget.
type frame struct {
	ret                 int
	r6, r7, r8, r9, r10 uint64
	loops               uint64
}

// region is memory a program may reach through a plain (non-arena) pointer:
// a map's values, global data, the ctx, the packet. Registers hold real
// addresses into mem, so helpers and Go code see the same bytes.
type region struct {
	start uint64
	mem   []byte
	write bool
	name  string
	// ptrs are ctx fields that read as full pointers whatever the load
	// size (skb->data and friends are u32 in the UAPI struct; the kernel
	// rewrites their loads into pointer loads).
	ptrs []ptrField
}

type ptrField struct {
	off uint64
	val uint64
}

// machine is the state of one run, whatever back end runs the code: its
// stack, instruction budget, the regions it may touch and what it reports.
// Helpers and kfuncs get it (never a back end's own state) and reach the
// program's code only through m.call. Machines are pooled per collection;
// a run owns its machine exclusively.
type machine struct {
	c           *Collection
	p           *program
	stack       [stackSize]byte
	stackBase   uint64
	budget      uint64
	regions     []region
	nfixed      int // regions[:nfixed] are the collection's
	faults      []engine.Fault
	output      []byte
	cpu         uint32
	stackRegion region
	held        []uint64    // resilient spin locks this run holds
	tailCalls   int         // tail calls this run has made
	prof        *runProfile // nil unless the run is profiled
	// deferred are frees from a non-sleepable context, on kernels that
	// hand them to a worker: they take effect when the run returns.
	deferred []deferredFree
}

type deferredFree struct {
	addr  uint64
	count uint32
}

// flushDeferred runs the frees a run deferred, as the kernel's worker
// does once the program has returned.
func (m *machine) flushDeferred() {
	if len(m.deferred) == 0 {
		return
	}
	if ar := m.c.arena; ar != nil {
		for _, d := range m.deferred {
			ar.freePages(d.addr, d.count)
		}
	}
	m.deferred = m.deferred[:0]
}

func newMachine(c *Collection) *machine {
	m := &machine{c: c}
	m.stackBase = uint64(uintptr(unsafe.Pointer(&m.stack[0])))
	m.stackRegion = region{start: m.stackBase, mem: m.stack[:], write: true, name: "stack"}
	return m
}

// RuntimeError is a run stopped by something the program did that the
// kernel's verifier would have rejected at load (an out-of-bounds access,
// a write to read-only data) or by the instruction budget.
type RuntimeError struct {
	Program string
	Insn    int    // instruction slot
	Line    string // "file.c:31", if known
	Err     error
}

func (e *RuntimeError) Error() string {
	s := fmt.Sprintf("program %s: insn %d", e.Program, e.Insn)
	if e.Line != "" {
		s += " (" + e.Line + ")"
	}
	return s + ": " + e.Err.Error()
}

func (e *RuntimeError) Unwrap() error { return e.Err }

func (m *machine) wrapf(pc int, err error) error {
	if _, ok := err.(*RuntimeError); ok {
		return err
	}
	return &RuntimeError{Program: m.p.name, Insn: m.p.slotOf(pc), Line: m.p.lineOf(pc), Err: err}
}

func (m *machine) errorf(pc int, format string, args ...any) error {
	if format == "%v" && len(args) == 1 {
		if err, ok := args[0].(error); ok {
			return m.wrapf(pc, err)
		}
	}
	return m.wrapf(pc, fmt.Errorf(format, args...))
}

// fault records an arena access to a page that is not present.
func (m *machine) fault(kind engine.FaultKind, reg uint64, off int16, pc int) {
	if len(m.faults) >= maxFaults {
		return
	}
	m.faults = append(m.faults, engine.Fault{
		Program: m.p.name,
		Kind:    kind,
		Address: m.c.arenaOrEmpty().faultAddr(reg, off),
		Insn:    m.p.slotOf(pc),
		Line:    m.p.lineOf(pc),
	})
}

// arenaLoadMiss finishes an arena load the fast path could not do: from a
// page the kernel would have mapped outside the arena, else a fault that
// reads 0.
func (m *machine) arenaLoadMiss(reg uint64, off int16, size uint64, pc int) uint64 {
	if b, ok := m.c.arenaOrEmpty().extraAt(reg, off, size); ok {
		return loadN(b, size)
	}
	m.fault(engine.FaultRead, reg, off, pc)
	return 0
}

// arenaStoreMiss is arenaLoadMiss for stores: a fault skips the store.
func (m *machine) arenaStoreMiss(reg uint64, off int16, size, v uint64, pc int) {
	if b, ok := m.c.arenaOrEmpty().extraAt(reg, off, size); ok {
		storeN(b, size, v)
		return
	}
	m.fault(engine.FaultWrite, reg, off, pc)
}

// find returns the region and offset of [a, a+size), or nil.
func (m *machine) find(a, size uint64) (*region, uint64) {
	if off := a - m.stackBase; off < stackSize && stackSize-off >= size {
		return &m.stackRegion, off
	}
	for i := range m.regions {
		rg := &m.regions[i]
		off := a - rg.start
		if n := uint64(len(rg.mem)); off < n && n-off >= size {
			return rg, off
		}
	}
	return nil, 0
}

// mem returns the n bytes at a for a helper, checked like a program
// access. A zero n gives an empty slice for any address.
func (m *machine) mem(a, n uint64, write bool) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	rg, off := m.find(a, n)
	if rg == nil {
		return nil, fmt.Errorf("invalid memory access: %d bytes at %#x are outside the stack, maps, ctx and packet", n, a)
	}
	if write && !rg.write {
		return nil, fmt.Errorf("write into read-only %s at %#x", rg.name, a)
	}
	return rg.mem[off : off+n : off+n], nil
}

// cstring reads a NUL-terminated string of at most max bytes at a.
func (m *machine) cstring(a, max uint64) (string, error) {
	rg, off := m.find(a, 1)
	if rg == nil {
		return "", fmt.Errorf("invalid string pointer %#x", a)
	}
	b := rg.mem[off:]
	if uint64(len(b)) > max {
		b = b[:max]
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
	}
	return string(b), nil
}

func (m *machine) loadOther(a, size uint64, pc int) (uint64, error) {
	rg, off := m.find(a, size)
	if rg == nil {
		return 0, m.errorf(pc, "invalid memory access: read of %d bytes at %#x is outside the stack, maps, ctx and packet", size, a)
	}
	for _, f := range rg.ptrs {
		if f.off == off {
			return f.val, nil
		}
	}
	return loadN(rg.mem[off:off+size], size), nil
}

func (m *machine) storeOther(a, size, v uint64, pc int) error {
	rg, off := m.find(a, size)
	if rg == nil {
		return m.errorf(pc, "invalid memory access: write of %d bytes at %#x is outside the stack, maps, ctx and packet", size, a)
	}
	if !rg.write {
		return m.errorf(pc, "write into read-only %s at %#x", rg.name, a)
	}
	storeN(rg.mem[off:off+size], size, v)
	return nil
}

func loadN(b []byte, size uint64) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(*(*uint16)(unsafe.Pointer(&b[0])))
	case 4:
		return uint64(*(*uint32)(unsafe.Pointer(&b[0])))
	default:
		return *(*uint64)(unsafe.Pointer(&b[0]))
	}
}

func storeN(b []byte, size, v uint64) {
	switch size {
	case 1:
		b[0] = byte(v)
	case 2:
		*(*uint16)(unsafe.Pointer(&b[0])) = uint16(v)
	case 4:
		*(*uint32)(unsafe.Pointer(&b[0])) = uint32(v)
	default:
		*(*uint64)(unsafe.Pointer(&b[0])) = v
	}
}

// Atomic operation codes (the imm of BPF_ATOMIC instructions).
const (
	atomicAdd        = 0x00
	atomicOr         = 0x40
	atomicAnd        = 0x50
	atomicXor        = 0xa0
	atomicFetch      = 0x01
	atomicXchg       = 0xe0 | atomicFetch
	atomicCmpXchg    = 0xf0 | atomicFetch
	atomicLoadAcq    = 0x100
	atomicStoreRel   = 0x110
	atomicOpMask     = 0xfff
	atomicSizeShift  = 32 // in.imm bits above hold the access size
	atomicNoRegister = -1
)

// misaligned serialises atomics on misaligned arena addresses, which the
// hardware may not do atomically (or at all, on some CPUs).
var misaligned sync.Mutex

// atomicOther runs an atomic instruction on stack or map memory. It
// returns the value to write back and the register to write it to.
func (m *machine) atomicOther(in *insn, dst, src, r0 uint64, pc int) (uint64, int, error) {
	op := in.imm & atomicOpMask
	size := in.imm >> atomicSizeShift
	var a uint64
	if op == atomicLoadAcq {
		a = src + uint64(int64(in.off))
	} else {
		a = dst + uint64(int64(in.off))
	}
	rg, off := m.find(a, size)
	if rg == nil {
		return 0, 0, m.errorf(pc, "invalid memory access: atomic of %d bytes at %#x is outside the stack, maps, ctx and packet", size, a)
	}
	if op != atomicLoadAcq && !rg.write {
		return 0, 0, m.errorf(pc, "write into read-only %s at %#x", rg.name, a)
	}
	if a%size != 0 {
		return 0, 0, m.errorf(pc, "misaligned atomic access of %d bytes at %#x", size, a)
	}
	v, reg := doAtomic(rg.mem[off:off+size], size, in, src, r0)
	return v, reg, nil
}

// atomicArena runs an atomic instruction on arena memory; on an absent
// page it does nothing and records a fault, as the kernel's exception
// table does.
func (m *machine) atomicArena(ar *vmArena, in *insn, dst, src, r0 uint64, pc int) (uint64, int) {
	op := in.imm & atomicOpMask
	size := in.imm >> atomicSizeShift
	base := dst
	if op == atomicLoadAcq {
		base = src
	}
	var b []byte
	var aligned bool
	if off, ok := ar.resolve(base, in.off, size); ok {
		b, aligned = ar.mem[off:off+size], off%size == 0
	} else if b, ok = ar.extraAt(base, in.off, size); !ok {
		kind := engine.FaultWrite
		if op == atomicLoadAcq {
			kind = engine.FaultRead
		}
		m.fault(kind, base, in.off, pc)
		if m.c.kernel.FaultedFetchZeroes {
			// The JIT's fault fixup clears the register the atomic
			// would have loaded, like a faulting plain load does.
			switch {
			case op == atomicLoadAcq:
				return 0, int(in.dst & 15)
			case op == atomicCmpXchg:
				return 0, 0
			case op&atomicFetch != 0:
				return 0, int(in.src & 15)
			}
		}
		// Otherwise a faulting atomic, load-acquire included, leaves
		// every register as it was.
		return 0, atomicNoRegister
	}
	var v uint64
	var reg int
	if !aligned {
		misaligned.Lock()
		v, reg = plainAtomic(b, size, in, src, r0)
		misaligned.Unlock()
	} else {
		v, reg = doAtomic(b, size, in, src, r0)
	}
	// A 32-bit cmpxchg into the arena that succeeds leaves r0 whole,
	// upper half included: the x86 instruction does not write the
	// accumulator then, and the kernel's zero-extension of r0 after a
	// 32-bit cmpxchg is not applied to arena accesses (measured).
	if op == atomicCmpXchg && size == 4 && v == r0&0xffffffff {
		return r0, 0
	}
	return v, reg
}

// doAtomic performs the operation on aligned memory with sync/atomic.
func doAtomic(b []byte, size uint64, in *insn, src, r0 uint64) (uint64, int) {
	op := in.imm & atomicOpMask
	fetch := int(in.src)
	switch size {
	case 8:
		p := (*uint64)(unsafe.Pointer(&b[0]))
		switch op {
		case atomicAdd:
			atomic.AddUint64(p, src)
		case atomicAdd | atomicFetch:
			return atomic.AddUint64(p, src) - src, fetch
		case atomicOr:
			atomic.OrUint64(p, src)
		case atomicOr | atomicFetch:
			return atomic.OrUint64(p, src), fetch
		case atomicAnd:
			atomic.AndUint64(p, src)
		case atomicAnd | atomicFetch:
			return atomic.AndUint64(p, src), fetch
		case atomicXor, atomicXor | atomicFetch:
			for {
				old := atomic.LoadUint64(p)
				if atomic.CompareAndSwapUint64(p, old, old^src) {
					if op&atomicFetch != 0 {
						return old, fetch
					}
					return 0, atomicNoRegister
				}
			}
		case atomicXchg:
			return atomic.SwapUint64(p, src), fetch
		case atomicCmpXchg:
			for {
				old := atomic.LoadUint64(p)
				if old != r0 {
					return old, 0
				}
				if atomic.CompareAndSwapUint64(p, old, src) {
					return old, 0
				}
			}
		case atomicLoadAcq:
			return atomic.LoadUint64(p), int(in.dst)
		case atomicStoreRel:
			atomic.StoreUint64(p, src)
		}
	case 4:
		p := (*uint32)(unsafe.Pointer(&b[0]))
		s := uint32(src)
		switch op {
		case atomicAdd:
			atomic.AddUint32(p, s)
		case atomicAdd | atomicFetch:
			return uint64(atomic.AddUint32(p, s) - s), fetch
		case atomicOr:
			atomic.OrUint32(p, s)
		case atomicOr | atomicFetch:
			return uint64(atomic.OrUint32(p, s)), fetch
		case atomicAnd:
			atomic.AndUint32(p, s)
		case atomicAnd | atomicFetch:
			return uint64(atomic.AndUint32(p, s)), fetch
		case atomicXor, atomicXor | atomicFetch:
			for {
				old := atomic.LoadUint32(p)
				if atomic.CompareAndSwapUint32(p, old, old^s) {
					if op&atomicFetch != 0 {
						return uint64(old), fetch
					}
					return 0, atomicNoRegister
				}
			}
		case atomicXchg:
			return uint64(atomic.SwapUint32(p, s)), fetch
		case atomicCmpXchg:
			for {
				old := atomic.LoadUint32(p)
				if old != uint32(r0) {
					return uint64(old), 0
				}
				if atomic.CompareAndSwapUint32(p, old, s) {
					return uint64(old), 0
				}
			}
		case atomicLoadAcq:
			return uint64(atomic.LoadUint32(p)), int(in.dst)
		case atomicStoreRel:
			atomic.StoreUint32(p, s)
		}
	default:
		// 8- and 16-bit load-acquire and store-release: the only
		// atomics of these sizes. Plain accesses are ordered enough
		// for the single-byte and halfword cases on the supported
		// CPUs' memory models (x86 TSO; arm64 uses them for lock bytes
		// only under the program's own locks).
		switch op {
		case atomicLoadAcq:
			return loadN(b, size), int(in.dst)
		case atomicStoreRel:
			storeN(b, size, src)
		}
	}
	return 0, atomicNoRegister
}

// plainAtomic performs the operation without hardware atomicity; callers
// hold the misaligned lock.
func plainAtomic(b []byte, size uint64, in *insn, src, r0 uint64) (uint64, int) {
	op := in.imm & atomicOpMask
	mask := uint64(1)<<(size*8) - 1
	if size == 8 {
		mask = ^uint64(0)
	}
	old := loadN(b, size)
	fetch := int(in.src)
	switch op &^ atomicFetch {
	case atomicAdd:
		storeN(b, size, old+src)
	case atomicOr:
		storeN(b, size, old|src)
	case atomicAnd:
		storeN(b, size, old&src)
	case atomicXor:
		storeN(b, size, old^src)
	case atomicXchg &^ atomicFetch:
		storeN(b, size, src)
		return old, fetch
	case atomicCmpXchg &^ atomicFetch:
		if old == r0&mask {
			storeN(b, size, src)
		}
		return old, 0
	case atomicLoadAcq:
		return old, int(in.dst)
	case atomicStoreRel:
		storeN(b, size, src)
		return 0, atomicNoRegister
	}
	if op&atomicFetch != 0 {
		return old, fetch
	}
	return 0, atomicNoRegister
}
