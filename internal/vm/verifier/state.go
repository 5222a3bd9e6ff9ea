package verifier

import "strconv"

// Stack byte states.
const (
	byteInvalid byte = iota // never written
	byteMisc                // written with data the verifier does not follow
	byteZero                // written with zero
	byteSpill               // part of a spilled register (slot.v)
	byteIter                // part of a live bpf_iter_num
)

// maxStack is the size of one frame's stack, as in the kernel.
const maxStack = 512

// slot is one 8-byte stack slot.
type slot struct {
	b [8]byte // per-byte state; b[i] is the byte at offset -(j+1)*8+i
	v value   // the spilled register, when every byte is byteSpill
}

func (s *slot) spilled() bool { return s.b[0] == byteSpill }

// blockSlots is how many slots share one copy-on-write block.
const blockSlots = 8

// block is a run of stack slots that states share until one writes it.
type block [blockSlots]slot

// frame is one function's registers and stack.
type frame struct {
	regs [11]value
	// stack holds the slots in blocks: slot j covers the bytes
	// [-(j+1)*8, -j*8) below the frame pointer and is in stack[j/8] (nil
	// or missing: never written). States are cloned at every join point
	// and stacks change much less often, so blocks are shared and copied
	// on the first write.
	stack      []*block
	owned      uint64 // bit b: stack[b] belongs to this frame alone
	sliceOwned bool   // the stack slice itself belongs to this frame alone
	callsite   int    // instruction index of the call that made the frame, -1 for the entry
	subprog    int    // instruction index of the function's first instruction
	callback   bool   // a callback frame (bpf_loop): returns like the helper does
	cbArg      value  // callback: the context argument to pass on the next iteration
	key        string // call chain, to tell apart the same code reached from different calls
}

// state is the abstract machine state: the call stack, innermost last.
type state struct {
	frames []*frame
	// pkt is how many bytes from the start of the packet a bounds check
	// against data_end has proven readable.
	pkt int64
	// Critical sections the program is in: bpf_preempt_disable,
	// bpf_local_irq_save, bpf_rcu_read_lock and bpf_res_spin_lock depths.
	preempt, irq, rcu, locks int8
	// iters counts the live bpf_iter_num iterators (references the
	// program must release).
	iters int8
}

func (s *state) cur() *frame { return s.frames[len(s.frames)-1] }

// clone copies the state; the stacks stay shared until written.
func (s *state) clone() *state {
	n := &state{frames: make([]*frame, len(s.frames)), pkt: s.pkt,
		preempt: s.preempt, irq: s.irq, rcu: s.rcu, locks: s.locks, iters: s.iters}
	for i, f := range s.frames {
		f.owned, f.sliceOwned = 0, false
		g := *f
		n.frames[i] = &g
	}
	return n
}

// newFrame is the frame of a call from callsite to the function at
// subprog, with every register unset.
func newFrame(callsite, subprog int, parentKey string) *frame {
	f := &frame{callsite: callsite, subprog: subprog}
	for i := range f.regs {
		f.regs[i] = notInit()
	}
	f.key = parentKey + "/" + strconv.Itoa(callsite) + ">" + strconv.Itoa(subprog)
	return f
}

// nslots is the number of slots the frame has room for.
func (f *frame) nslots() int { return len(f.stack) * blockSlots }

// slot returns slot j; slots never written are all invalid bytes.
func (f *frame) slot(j int) slot {
	if b := j / blockSlots; b < len(f.stack) && f.stack[b] != nil {
		return f.stack[b][j%blockSlots]
	}
	return slot{}
}

// slotMut returns slot j for writing, copying what is shared.
func (f *frame) slotMut(j int) *slot {
	b := j / blockSlots
	if !f.sliceOwned {
		f.stack = append(make([]*block, 0, max(len(f.stack), b+1)), f.stack...)
		f.sliceOwned = true
	}
	for len(f.stack) <= b {
		f.stack = append(f.stack, nil)
	}
	if f.owned&(1<<b) == 0 || f.stack[b] == nil {
		nb := new(block)
		if f.stack[b] != nil {
			*nb = *f.stack[b]
		}
		f.stack[b] = nb
		f.owned |= 1 << b
	}
	return &f.stack[b][j%blockSlots]
}

// slotIndex is the slot holding stack offset off (negative, inside the frame).
func slotIndex(off int64) int { return int((-off - 1) / 8) }

// slotAt returns the slot holding stack offset off for writing.
func (f *frame) slotAt(off int64) *slot { return f.slotMut(slotIndex(off)) }

// slotRead returns the slot holding stack offset off.
func (f *frame) slotRead(off int64) slot { return f.slot(slotIndex(off)) }

// byteIndex is the index in slot.b of stack offset off.
func byteIndex(off int64) int { return int((off%8 + 8) % 8) }

// joinState merges b into a (same call chain) and returns the result.
func joinState(a, b *state) *state {
	r := a.clone()
	r.pkt = min(a.pkt, b.pkt)
	// Different critical-section depths are kept apart by coversState;
	// should they meet anyway, the deeper one is kept, so that leaving
	// the program inside a section is still caught.
	r.preempt, r.irq, r.rcu, r.locks = max(a.preempt, b.preempt), max(a.irq, b.irq), max(a.rcu, b.rcu), max(a.locks, b.locks)
	r.iters = max(a.iters, b.iters)
	for i, f := range r.frames {
		g := b.frames[i]
		for j := range f.regs {
			f.regs[j] = join(f.regs[j], g.regs[j])
		}
		if f.callback {
			f.cbArg = join(f.cbArg, g.cbArg)
		}
		n := max(len(f.stack), len(g.stack))
		for bi := 0; bi < n; bi++ {
			if bi < len(f.stack) && bi < len(g.stack) && f.stack[bi] == g.stack[bi] {
				continue
			}
			for j := bi * blockSlots; j < (bi+1)*blockSlots; j++ {
				x, y := f.slot(j), g.slot(j)
				if x != y {
					*f.slotMut(j) = joinSlot(x, y)
				}
			}
		}
	}
	return r
}

// joinSlot merges two slots: equal spills stay spills, anything else
// becomes bytes, invalid where either is.
func joinSlot(a, b slot) slot {
	if a == b {
		return a
	}
	if a.spilled() && b.spilled() {
		return slot{b: a.b, v: join(a.v, b.v)}
	}
	var r slot
	for i := range r.b {
		x, y := a.b[i], b.b[i]
		switch {
		case x == byteInvalid || y == byteInvalid:
			r.b[i] = byteInvalid
		case x == byteZero && y == byteZero:
			r.b[i] = byteZero
		case x == byteIter && y == byteIter:
			r.b[i] = byteIter
		case x == byteZero && y == byteSpill && b.v.isZero(), y == byteZero && x == byteSpill && a.v.isZero():
			r.b[i] = byteZero
		default:
			r.b[i] = byteMisc
		}
	}
	return r
}

// coversState reports whether a describes every machine state b describes.
func coversState(a, b *state) bool {
	if len(a.frames) != len(b.frames) || a.pkt > b.pkt ||
		a.preempt != b.preempt || a.irq != b.irq || a.rcu != b.rcu || a.locks != b.locks || a.iters != b.iters {
		return false
	}
	for i, f := range a.frames {
		g := b.frames[i]
		if f.callsite != g.callsite || f.subprog != g.subprog {
			return false
		}
		for j := range f.regs {
			if !covers(f.regs[j], g.regs[j]) {
				return false
			}
		}
		if f.callback && !covers(f.cbArg, g.cbArg) {
			return false
		}
		n := max(len(f.stack), len(g.stack))
		for bi := 0; bi < n; bi++ {
			if bi < len(f.stack) && bi < len(g.stack) && f.stack[bi] == g.stack[bi] {
				continue
			}
			for j := bi * blockSlots; j < (bi+1)*blockSlots; j++ {
				if !coversSlot(f.slot(j), g.slot(j)) {
					return false
				}
			}
		}
	}
	return true
}

// coversSlot reports whether slot a describes every content of slot b.
func coversSlot(a, b slot) bool {
	if a == b {
		return true
	}
	if a.spilled() {
		return b.spilled() && covers(a.v, b.v)
	}
	for i := range a.b {
		x, y := a.b[i], b.b[i]
		switch x {
		case byteInvalid:
		case byteMisc:
			if y == byteInvalid {
				return false
			}
		case byteZero:
			if !(y == byteZero || y == byteSpill && b.v.isZero()) {
				return false
			}
		case byteIter:
			if y != byteIter {
				return false
			}
		}
	}
	return true
}
