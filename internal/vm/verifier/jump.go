package verifier

import (
	"fmt"
	"syscall"

	"github.com/bpfarena/bpfarena/asm"
)

// jump handles the JMP and JMP32 classes: jumps, calls and exit.
func (v *verifier) jump(pc int, st *state, ins asm.Instruction) ([]item, error) {
	switch {
	case ins.IsExit():
		return v.exit(pc, st)
	case ins.IsCall():
		return v.call(pc, st, ins)
	case ins.IsUnconditionalJump():
		return one(v.target(pc), st), nil
	case ins.IsMayGoto():
		return []item{{pc + 1, st}, {v.target(pc), st.clone()}}, nil
	}
	return v.cond(pc, st, ins)
}

// target is the instruction index a jump at pc goes to.
func (v *verifier) target(pc int) int {
	slot, _ := v.jumpSlot(pc)
	t, _ := v.slotTarget(slot)
	return t
}

// nonNull reports whether x is a pointer that cannot be NULL.
func nonNull(x value) bool {
	return !x.null && x.single() && x.k&(kStack|kCtx|kMapValue|kMem|kMapPtr) != 0
}

// cond handles a conditional jump: one way when known constants decide
// it, else both, each knowing what the comparison says.
func (v *verifier) cond(pc int, st *state, ins asm.Instruction) ([]item, error) {
	d, err := v.reg(pc, st, ins.Dst)
	if err != nil {
		return nil, err
	}
	var s value
	if ins.OpCode.Source() == asm.SourceX {
		if s, err = v.reg(pc, st, ins.Src); err != nil {
			return nil, err
		}
	} else {
		s = constScalar(uint64(ins.Constant))
	}
	is32 := ins.Class() == asm.ClassJMP32
	op := ins.JumpOp()
	t := v.target(pc)
	switch decide(op, d, s, is32) {
	case 1:
		v.edges[pc] |= edgeTaken
		return one(t, st), nil
	case 0:
		v.edges[pc] |= edgeFall
		return one(pc+1, st), nil
	}
	v.edges[pc] |= edgeFall | edgeTaken
	taken, fall := st.clone(), st
	if !is32 {
		packetBounds(op, d, s, taken, fall)
	}
	// A comparison bounds what it compares (the kernel learns a range on
	// each branch; this pass only forgets that the value was unbounded).
	for _, st := range []*state{taken, fall} {
		unwiden(st, ins.Dst, d)
		if ins.OpCode.Source() == asm.SourceX {
			unwiden(st, ins.Src, s)
		}
	}
	if (op == asm.JumpJEQ || op == asm.JumpJNE) && s.isConst() && ins.Dst <= asm.R10 {
		eq, ne := taken, fall
		if op == asm.JumpJNE {
			eq, ne = fall, taken
		}
		refineEq(eq, ins.Dst, d, s.v, is32)
		if s.v == 0 {
			refineNonZero(ne, ins.Dst, d)
		}
	}
	return []item{{pc + 1, fall}, {t, taken}}, nil
}

// refineEq: on this branch register r (holding d) equals c.
func refineEq(st *state, r asm.Register, d value, c uint64, is32 bool) {
	f := st.cur()
	switch {
	case d.is(kScalar) && !is32:
		f.regs[r] = constScalar(c)
	case c == 0 && (d.null || d.has(kScalar)) && d.k&pointerKinds != 0 && !d.has(kArena):
		// A maybe-NULL pointer found equal to 0 is the number 0, and so
		// is every copy of it.
		if d.id != 0 {
			forEachValue(st, func(x *value) {
				if x.id == d.id && x.null {
					*x = constScalar(0)
				}
			})
		}
		f.regs[r] = constScalar(0)
	}
}

// refineNonZero: on this branch register r (holding d) is not 0.
func refineNonZero(st *state, r asm.Register, d value) {
	if d.has(kArena) || d.k&pointerKinds == 0 {
		return
	}
	fix := func(x *value) {
		x.null = false
		if x.has(kScalar) && x.known && x.v == 0 {
			x.k &^= kScalar
			x.known = false
		}
	}
	if d.id != 0 && d.null {
		id := d.id
		forEachValue(st, func(x *value) {
			if x.id == id {
				fix(x)
			}
		})
	}
	fix(&st.cur().regs[r])
}

// forEachValue visits every register and spilled register of st.
func forEachValue(st *state, fn func(*value)) {
	for _, f := range st.frames {
		for i := range f.regs {
			fn(&f.regs[i])
		}
		for j := 0; j < f.nslots(); j++ {
			if s := f.slot(j); s.spilled() {
				x := s.v
				fn(&x)
				if x != s.v {
					f.slotMut(j).v = x
				}
			}
		}
	}
}

// decide returns 1 if the branch is always taken, 0 if never, -1 if it
// depends.
func decide(op asm.JumpOp, d, s value, is32 bool) int {
	if s.isZero() && nonNull(d) {
		switch op {
		case asm.JumpJEQ:
			return 0
		case asm.JumpJNE:
			return 1
		}
	}
	if !d.isConst() || !s.isConst() {
		return decideRange(op, d, s, is32)
	}
	a, b := d.v, s.v
	sa, sb := int64(a), int64(b)
	if is32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
		sa, sb = int64(int32(a)), int64(int32(b))
	}
	var r bool
	switch op {
	case asm.JumpJEQ:
		r = a == b
	case asm.JumpJNE:
		r = a != b
	case asm.JumpJGT:
		r = a > b
	case asm.JumpJGE:
		r = a >= b
	case asm.JumpJLT:
		r = a < b
	case asm.JumpJLE:
		r = a <= b
	case asm.JumpJSGT:
		r = sa > sb
	case asm.JumpJSGE:
		r = sa >= sb
	case asm.JumpJSLT:
		r = sa < sb
	case asm.JumpJSLE:
		r = sa <= sb
	case asm.JumpJSET:
		r = a&b != 0
	default:
		return -1
	}
	if r {
		return 1
	}
	return 0
}

// exit handles a return: from the program, from a global function being
// verified on its own, or from a called function or callback.
func (v *verifier) exit(pc int, st *state) ([]item, error) {
	f := st.cur()
	r0 := f.regs[0]
	if r0.has(kNotInit) {
		return nil, v.fail(pc, syscall.EACCES, "R0 !read_ok")
	}
	if len(st.frames) == 1 {
		if err := v.checkSections(pc, st, "BPF_EXIT instruction in main prog"); err != nil {
			return nil, err
		}
		// An arena value may leave a global function: 6.12 and 7.3 both
		// load one returning the difference of two arena pointers
		// (corpus arena_type_tags: type_tag_distance; the selftests'
		// bpf_arena_strlen).
		if v.inGlobal >= 0 && !r0.arenaOrScalar() {
			return nil, v.fail(pc, syscall.EINVAL, fmt.Sprintf("At subprogram exit the register R0 is not a scalar value (%s)", r0.typeName()))
		}
		return nil, nil
	}
	if r0.has(kStack) && int(r0.frame) == len(st.frames)-1 {
		return nil, v.fail(pc, syscall.EINVAL, "cannot return stack pointer to the caller")
	}
	st.frames = st.frames[:len(st.frames)-1]
	caller := st.cur()
	for r := asm.R1; r <= asm.R5; r++ {
		caller.regs[r] = notInit()
	}
	if !f.callback {
		caller.regs[0] = r0
		return one(f.callsite+1, st), nil
	}
	if !r0.is(kScalar) {
		return nil, v.fail(pc, syscall.EACCES, "R0 not a scalar value")
	}
	if r0.known && r0.v > 1 {
		// bpf_loop callbacks return 0 (go on) or 1 (stop).
		return nil, v.fail(pc, syscall.EINVAL, fmt.Sprintf("At callback return the register R0 has smin=%d smax=%d should have been in [0, 1]", int64(r0.v), int64(r0.v)))
	}
	// A callback runs again or the helper returns.
	caller.regs[0] = v.anyScalar()
	again := st.clone()
	cb := v.callbackFrame(again, f.callsite, f.subprog, f.cbArg)
	again.frames = append(again.frames, cb)
	return []item{{f.callsite + 1, st}, {f.subprog, again}}, nil
}

// callbackFrame is the frame of a callback called by the helper at
// callsite: r1 is the iteration number, r2 the context argument.
func (v *verifier) callbackFrame(st *state, callsite, fn int, arg value) *frame {
	f := newFrame(callsite, fn, st.cur().key)
	f.callback = true
	f.cbArg = arg
	f.regs[1] = v.anyScalar()
	f.regs[2] = arg
	f.regs[10] = value{k: kStack, offOK: true, frame: int8(len(st.frames))}
	return f
}

// packetBounds learns from a comparison of a packet pointer with the
// packet end how many bytes of the packet are readable on each branch.
func packetBounds(op asm.JumpOp, d, s value, taken, fall *state) {
	var p value
	swapped := false
	switch {
	case d.is(kPacket) && s.is(kPacketEnd):
		p = d
	case d.is(kPacketEnd) && s.is(kPacket):
		p, swapped = s, true
	default:
		return
	}
	if !p.offOK {
		return
	}
	if swapped {
		// end OP p is p OP' end.
		switch op {
		case asm.JumpJGT:
			op = asm.JumpJLT
		case asm.JumpJGE:
			op = asm.JumpJLE
		case asm.JumpJLT:
			op = asm.JumpJGT
		case asm.JumpJLE:
			op = asm.JumpJGE
		}
	}
	grow := func(st *state, n int64) { st.pkt = max(st.pkt, n) }
	switch op {
	case asm.JumpJGT: // p > end: otherwise p <= end
		grow(fall, p.off)
	case asm.JumpJGE: // p >= end: otherwise p < end
		grow(fall, p.off+1)
	case asm.JumpJLT: // p < end
		grow(taken, p.off+1)
	case asm.JumpJLE: // p <= end
		grow(taken, p.off)
	}
}

// checkSections rejects leaving the program (what names the way out)
// inside a critical section.
func (v *verifier) checkSections(pc int, st *state, what string) error {
	region := ""
	switch {
	case st.locks > 0:
		region = "bpf_spin_lock-ed"
	case st.iters > 0:
		return v.fail(pc, syscall.EINVAL, what+" would lead to reference leak")
	case st.irq > 0:
		region = "bpf_local_irq_save-ed"
	case st.rcu > 0:
		region = "bpf_rcu_read_lock-ed"
	case st.preempt > 0:
		region = "bpf_preempt_disable-ed"
	default:
		return nil
	}
	if v.env.Kernel.ExitNamesMissingUnlock && region != "bpf_local_irq_save-ed" {
		// Older kernels name what is missing instead.
		msg := map[string]string{
			"bpf_spin_lock-ed":       "bpf_spin_unlock is missing",
			"bpf_rcu_read_lock-ed":   "bpf_rcu_read_unlock is missing",
			"bpf_preempt_disable-ed": fmt.Sprintf("%d bpf_preempt_enable is missing", st.preempt),
		}[region]
		if st.preempt > 1 && region == "bpf_preempt_disable-ed" {
			msg = fmt.Sprintf("%d bpf_preempt_enable(s) are missing", st.preempt)
		}
		return v.fail(pc, syscall.EINVAL, msg)
	}
	return v.fail(pc, syscall.EINVAL, what+" cannot be used inside "+region+" region")
}

// unwiden marks register r (holding x) and its copies as bounded.
func unwiden(st *state, r asm.Register, x value) {
	if !x.wide || r > asm.R10 {
		return
	}
	if x.id != 0 {
		forEachValue(st, func(y *value) {
			if y.wide && y.id == x.id {
				y.wide = false
			}
		})
	}
	st.cur().regs[r].wide = false
}

// decideRange decides a comparison from the ranges of two numbers narrower
// than 64 bits (narrow loads, 32-bit results) or known, as the kernel does
// with its bounds; a jump it decides gets hard-wired like the kernel's.
// 32-bit comparisons are decided only for unsigned and equality tests of
// values that fit in 32 bits; signed ones see those values as
// non-negative only when they fit in fewer.
func decideRange(op asm.JumpOp, d, s value, is32 bool) int {
	dlo, dhi, ok1 := d.urange()
	slo, shi, ok2 := s.urange()
	if !ok1 || !ok2 {
		return -1
	}
	if is32 {
		if d.width() == 0 || s.width() == 0 || d.width() > 32 || s.width() > 32 {
			return -1
		}
	}
	signedOK := !is32 || (d.width() < 32 && s.width() < 32)
	// Both ranges lie in [0, 2^63): signed and unsigned order agree.
	var taken, never bool
	switch op {
	case asm.JumpJEQ:
		never = dhi < slo || shi < dlo
	case asm.JumpJNE:
		taken = dhi < slo || shi < dlo
	case asm.JumpJGT, asm.JumpJSGT:
		taken, never = dlo > shi, dhi <= slo
	case asm.JumpJGE, asm.JumpJSGE:
		taken, never = dlo >= shi, dhi < slo
	case asm.JumpJLT, asm.JumpJSLT:
		taken, never = dhi < slo, dlo >= shi
	case asm.JumpJLE, asm.JumpJSLE:
		taken, never = dhi <= slo, dlo > shi
	default:
		return -1
	}
	switch op {
	case asm.JumpJSGT, asm.JumpJSGE, asm.JumpJSLT, asm.JumpJSLE:
		if !signedOK || dhi >= 1<<63 || shi >= 1<<63 {
			return -1
		}
	}
	switch {
	case taken:
		return 1
	case never:
		return 0
	}
	return -1
}
