package verifier

import (
	"fmt"
	"strconv"
	"syscall"

	"github.com/bpfarena/bpfarena/asm"
)

// entryState is the state at the program's first instruction: r1 is the
// context, r10 the frame pointer, everything else unset.
func (v *verifier) entryState() *state {
	f := newFrame(-1, 0, "")
	f.regs[1] = value{k: kCtx, offOK: true}
	f.regs[10] = value{k: kStack, offOK: true}
	return &state{frames: []*frame{f}}
}

// explore walks every path from pc, keeping states at join points.
func (v *verifier) explore(pc int, st *state) error {
	v.work = append(v.work[:0], item{pc, st})
	for len(v.work) > 0 {
		it := v.work[len(v.work)-1]
		v.work = v.work[:len(v.work)-1]
		if err := v.walk(it.pc, it.st); err != nil {
			return err
		}
	}
	return nil
}

// walk follows one path from pc until it ends, is covered by a state
// already seen, or branches (the other ways go on the work list).
func (v *verifier) walk(pc int, st *state) error {
	for {
		if v.prune[pc] {
			var ok bool
			if st, ok = v.merge(pc, st); !ok {
				return nil
			}
		}
		v.processed++
		if v.processed > insnLimit {
			return v.fail(pc, syscall.E2BIG, "BPF program is too large. Processed "+strconv.Itoa(v.processed)+" insn")
		}
		if v.kprune[pc] {
			v.countPrunePoint(pc)
		}
		if v.insns[pc].Class().IsJump() {
			v.jmps++
		}
		if v.env.LogLevel >= 1 {
			v.trace(pc)
		}
		next, err := v.step(pc, st)
		if err != nil {
			return err
		}
		if len(next) == 0 {
			return nil
		}
		v.work = append(v.work, next[1:]...)
		pc, st = next[0].pc, next[0].st
	}
}

// merge records st at join point pc. It reports false when a state kept
// there already covers st; otherwise it returns the state to go on with:
// st itself while there is room, else st joined into the last kept state.
func (v *verifier) merge(pc int, st *state) (*state, bool) {
	key := point{st.cur().key, pc}
	kept := v.stored[key]
	for _, s := range kept {
		if coversState(s, st) {
			return nil, false
		}
	}
	if len(kept) < statesPerPoint {
		v.stored[key] = append(kept, st.clone())
		v.states++
		v.peak = max(v.peak, len(kept)+1)
		return st, true
	}
	j := joinState(kept[len(kept)-1], st)
	kept[len(kept)-1] = j
	return j.clone(), true
}

// reg reads register r, which must have been written.
func (v *verifier) reg(pc int, st *state, r asm.Register) (value, error) {
	if r > asm.R10 {
		return value{}, v.fail(pc, syscall.EINVAL, fmt.Sprintf("R%d is invalid", r))
	}
	x := st.cur().regs[r]
	if x.has(kNotInit) {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d !read_ok", r))
	}
	return x, nil
}

// setReg writes register r.
func (v *verifier) setReg(pc int, st *state, r asm.Register, x value) error {
	if r > asm.R10 {
		return v.fail(pc, syscall.EINVAL, fmt.Sprintf("R%d is invalid", r))
	}
	if r == asm.R10 {
		return v.fail(pc, syscall.EACCES, "frame pointer is read only")
	}
	st.cur().regs[r] = x
	return nil
}

// one is a single successor.
func one(pc int, st *state) []item { return []item{{pc, st}} }

// step checks the instruction at pc in state st (which it may change) and
// returns the states to continue with.
func (v *verifier) step(pc int, st *state) ([]item, error) {
	ins := v.insns[pc]
	switch ins.Class() {
	case asm.ClassALU, asm.ClassALU64:
		if err := v.alu(pc, st, ins); err != nil {
			return nil, err
		}
		return one(pc+1, st), nil
	case asm.ClassLD:
		if err := v.ld(pc, st, ins); err != nil {
			return nil, err
		}
		return one(pc+1, st), nil
	case asm.ClassLDX:
		base, err := v.reg(pc, st, ins.Src)
		if err != nil {
			return nil, err
		}
		if ins.Dst > asm.R10 {
			return nil, v.fail(pc, syscall.EINVAL, fmt.Sprintf("R%d is invalid", ins.Dst))
		}
		x, err := v.mem(pc, st, ins.Src, base, ins.Offset, ins.AccessSize(), accRead, value{})
		if err != nil {
			return nil, err
		}
		if ins.IsLoadSX() && base.is(kArena) && !v.env.Kernel.ArenaSignExtendingLoads {
			// Refused after the main pass, when the kernel rewrites
			// arena accesses, so the message has no instruction.
			e := v.fail(pc, syscall.EOPNOTSUPP, "sign extending loads from arena are not supported yet")
			e.Insn = -1
			return nil, e
		}
		if ins.IsLoadSX() {
			if x.isConst() {
				x = constScalar(signExtend(x.v, ins.AccessSize()*8))
			} else if x.k == kScalar {
				x = unknownScalar()
			}
		}
		return one(pc+1, st), v.setReg(pc, st, ins.Dst, x)
	case asm.ClassST, asm.ClassSTX:
		if err := v.store(pc, st, ins); err != nil {
			return nil, err
		}
		return one(pc+1, st), nil
	}
	return v.jump(pc, st, ins)
}

// ld handles ld_imm64 and the legacy packet loads.
func (v *verifier) ld(pc int, st *state, ins asm.Instruction) error {
	if !ins.IsLoadImm64() {
		// LD_ABS / LD_IND: r6 holds the skb; the result is in r0 and
		// r1-r5 are scratched, like a helper call.
		if _, err := v.reg(pc, st, asm.R6); err != nil {
			return err
		}
		if ins.Mode() == asm.ModeIND {
			if _, err := v.reg(pc, st, ins.Src); err != nil {
				return err
			}
		}
		f := st.cur()
		for r := asm.R1; r <= asm.R5; r++ {
			f.regs[r] = notInit()
		}
		f.regs[0] = unknownScalar()
		return nil
	}
	rel, hasRel := v.prog.Relocations[pc]
	var x value
	switch ins.Src {
	case 0:
		x = constScalar(uint64(ins.Constant))
	case asm.PseudoMapFD, asm.PseudoMapIdx:
		x = value{k: kMapPtr, offOK: true}
		if hasRel {
			x.mp = rel.Map
		}
	case asm.PseudoMapValue, asm.PseudoMapIdxValue:
		off := int64(uint32(uint64(ins.Constant) >> 32))
		if hasRel {
			off = int64(rel.Offset)
		}
		x = value{k: kMapValue, offOK: true, off: off}
		if hasRel && rel.Map != nil {
			if rel.Map.IsArena() {
				// The address of an arena global is a plain number
				// (user_vm_start + off); programs cast it to use it.
				x = unknownScalar()
			} else {
				x.mp = rel.Map
				x.size = int64(rel.Map.ValueSize)
			}
		}
	case asm.PseudoBTFID:
		x = value{k: kBTFID, offOK: true}
	case asm.PseudoFunc:
		slot, _ := v.jumpSlot(pc)
		t, _ := v.slotTarget(slot)
		x = value{k: kFunc, offOK: true, fn: int32(t)}
	}
	return v.setReg(pc, st, ins.Dst, x)
}

var aluOpName = map[asm.ALUOp]string{
	asm.ALUAdd: "+=", asm.ALUSub: "-=", asm.ALUMul: "*=", asm.ALUDiv: "/=", asm.ALUOr: "|=",
	asm.ALUAnd: "&=", asm.ALULsh: "<<=", asm.ALURsh: ">>=", asm.ALUNeg: "neg", asm.ALUMod: "%=",
	asm.ALUXor: "^=", asm.ALUMov: "=", asm.ALUArsh: "s>>=", asm.ALUEnd: "endian",
}

// alu handles the ALU and ALU64 classes.
func (v *verifier) alu(pc int, st *state, ins asm.Instruction) error {
	op := ins.ALUOp()
	is64 := ins.Class() == asm.ClassALU64
	x := ins.OpCode.Source() == asm.SourceX
	width := 32
	if is64 {
		width = 64
	}
	switch op {
	case asm.ALUEnd, asm.ALUNeg:
		d, err := v.reg(pc, st, ins.Dst)
		if err != nil {
			return err
		}
		r := unknownScalar()
		switch {
		case d.isConst() && op == asm.ALUNeg:
			r = constScalar(trunc(-d.v, width))
		case op == asm.ALUNeg && is64, op == asm.ALUEnd && ins.Constant == 64:
			// Negating or swapping all 64 bits of an unbounded number.
			r.wide = d.wide
		}
		return v.setReg(pc, st, ins.Dst, r)
	case asm.ALUMov:
		if !x {
			c := uint64(ins.Constant)
			if !is64 {
				c = uint64(uint32(ins.Constant))
			}
			return v.setReg(pc, st, ins.Dst, constScalar(c))
		}
		if ins.IsAddrSpaceCast() {
			if v.arena == nil {
				return v.fail(pc, syscall.EINVAL, "addr_space_cast insn can only be used in a program that has an associated arena")
			}
			if _, err := v.reg(pc, st, ins.Src); err != nil {
				return err
			}
			r := unknownScalar()
			if ins.Constant == asm.CastToArena {
				r = value{k: kArena}
			}
			return v.setReg(pc, st, ins.Dst, r)
		}
		s, err := v.reg(pc, st, ins.Src)
		if err != nil {
			return err
		}
		switch {
		case ins.Offset != 0: // movsx
			r := unknownScalar()
			if s.isConst() {
				r = constScalar(trunc(signExtend(s.v, int(ins.Offset)), width))
			}
			return v.setReg(pc, st, ins.Dst, r)
		case is64:
			return v.setReg(pc, st, ins.Dst, s)
		case s.isConst():
			return v.setReg(pc, st, ins.Dst, constScalar(uint64(uint32(s.v))))
		default:
			// A 32-bit copy (of a number, or of a pointer) is a
			// zero-extended number.
			return v.setReg(pc, st, ins.Dst, value{k: kScalar, bits: 32})
		}
	}
	d, err := v.reg(pc, st, ins.Dst)
	if err != nil {
		return err
	}
	var s value
	if x {
		if s, err = v.reg(pc, st, ins.Src); err != nil {
			return err
		}
	} else {
		imm := ins.Constant
		switch op {
		case asm.ALUDiv, asm.ALUMod:
			if imm == 0 {
				return v.fail(pc, syscall.EINVAL, "div by zero")
			}
		case asm.ALULsh, asm.ALURsh, asm.ALUArsh:
			if imm < 0 || imm >= int64(width) {
				return v.fail(pc, syscall.EINVAL, fmt.Sprintf("invalid shift %d", imm))
			}
		}
		s = constScalar(uint64(imm))
	}
	// Arena pointers: any operation is allowed and the result is still an
	// arena pointer. With the pointer as destination the kernel turns a
	// 64-bit operation into a 32-bit one; scalar += arena pointer stays
	// 64-bit.
	if d.has(kArena) && is64 {
		v.alu32[pc] = true
	}
	if d.is(kArena) || (d.is(kScalar) && s.is(kArena)) {
		return v.setReg(pc, st, ins.Dst, value{k: kArena})
	}
	if d.is(kScalar) && s.is(kScalar) {
		r := unknownScalar()
		if d.known && s.known {
			r = constScalar(evalALU(op, d.v, s.v, width, ins.Offset == 1))
		} else if !is64 {
			r.bits = 32 // a 32-bit result is zero-extended
		} else if is64 {
			r.wide = wideResult(op, d, s)
			if r.wide && (op == asm.ALUAdd || op == asm.ALUSub) && s.known {
				// Linked to d, as the kernel links x and x + c: a
				// comparison of either bounds both.
				r.id = d.id
			} else if r.wide {
				r = v.anyScalar()
			}
		}
		return v.setReg(pc, st, ins.Dst, r)
	}
	dp, sp := d.k&pointerKinds != 0, s.k&pointerKinds != 0
	if !dp && sp {
		// scalar op pointer: only scalar + pointer makes a pointer.
		if !is64 {
			return v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d 32-bit pointer arithmetic prohibited", ins.Dst))
		}
		if op == asm.ALUSub {
			return v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d tried to subtract pointer from scalar", ins.Dst))
		}
		if op != asm.ALUAdd {
			return v.ptrOpErr(pc, ins.Dst, op)
		}
		d, s = s, d
		op = asm.ALUAdd
	} else if dp && sp {
		// A privileged loader may subtract pointers (at any width).
		if op == asm.ALUSub {
			return v.setReg(pc, st, ins.Dst, unknownScalar())
		}
		return v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d pointer %s pointer prohibited", ins.Dst, aluOpName[op]))
	}
	// d is a pointer (possibly mixed with a scalar after a join), s a scalar.
	if !is64 && op == asm.ALUSub {
		// 32-bit operations on pointers make meaningless numbers, which
		// a privileged loader may compute.
		return v.setReg(pc, st, ins.Dst, unknownScalar())
	}
	if !is64 {
		return v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d 32-bit pointer arithmetic prohibited", ins.Dst))
	}
	if d.null {
		return v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d pointer arithmetic on %s prohibited, null-check it first", ins.Dst, d.typeName()))
	}
	if d.has(kPacketEnd|kFunc|kBTFID) || (d.has(kMapPtr) && !(op == asm.ALUAdd && s.isZero())) {
		return v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d pointer arithmetic on %s prohibited", ins.Dst, d.typeName()))
	}
	if s.wide {
		return v.fail(pc, syscall.EINVAL, fmt.Sprintf("math between %s pointer and register with unbounded min value is not allowed", d.typeName()))
	}
	if op != asm.ALUAdd && op != asm.ALUSub {
		return v.ptrOpErr(pc, ins.Dst, op)
	}
	r := d
	r.known, r.v, r.bits = false, 0, 0
	if s.isConst() && d.offOK {
		if op == asm.ALUAdd {
			r.off = d.off + int64(s.v)
		} else {
			r.off = d.off - int64(s.v)
		}
	} else {
		r.offOK, r.off = false, 0
	}
	if d.has(kArena) {
		r = value{k: d.k}
	}
	return v.setReg(pc, st, ins.Dst, r)
}

// ptrOpErr rejects an operation other than add and sub on a pointer.
func (v *verifier) ptrOpErr(pc int, r asm.Register, op asm.ALUOp) error {
	switch op {
	case asm.ALUAnd, asm.ALUOr, asm.ALUXor:
		return v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d bitwise operator %s on pointer prohibited", r, aluOpName[op]))
	}
	return v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d pointer arithmetic with %s operator prohibited", r, aluOpName[op]))
}

// trunc keeps the low width bits of x (32-bit results are zero-extended).
func trunc(x uint64, width int) uint64 {
	if width == 32 {
		return uint64(uint32(x))
	}
	return x
}

// signExtend extends the low bits of x as a signed number.
func signExtend(x uint64, bits int) uint64 {
	if bits <= 0 || bits >= 64 {
		return x
	}
	s := uint(64 - bits)
	return uint64(int64(x<<s) >> s)
}

// evalALU computes a constant result with the BPF semantics (division by
// zero gives 0, modulo by zero leaves the dividend).
func evalALU(op asm.ALUOp, a, b uint64, width int, signed bool) uint64 {
	if width == 32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
	}
	var r uint64
	switch op {
	case asm.ALUAdd:
		r = a + b
	case asm.ALUSub:
		r = a - b
	case asm.ALUMul:
		r = a * b
	case asm.ALUDiv:
		switch {
		case b == 0:
			r = 0
		case signed && width == 32:
			if int32(b) == -1 {
				r = uint64(uint32(-int32(a)))
			} else {
				r = uint64(uint32(int32(a) / int32(b)))
			}
		case signed:
			if int64(b) == -1 {
				r = uint64(-int64(a))
			} else {
				r = uint64(int64(a) / int64(b))
			}
		default:
			r = a / b
		}
	case asm.ALUMod:
		switch {
		case b == 0:
			r = a
		case signed && width == 32:
			if int32(b) == -1 {
				r = 0
			} else {
				r = uint64(uint32(int32(a) % int32(b)))
			}
		case signed:
			if int64(b) == -1 {
				r = 0
			} else {
				r = uint64(int64(a) % int64(b))
			}
		default:
			r = a % b
		}
	case asm.ALUOr:
		r = a | b
	case asm.ALUAnd:
		r = a & b
	case asm.ALUXor:
		r = a ^ b
	case asm.ALULsh:
		r = a << (b & uint64(width-1))
	case asm.ALURsh:
		r = a >> (b & uint64(width-1))
	case asm.ALUArsh:
		if width == 32 {
			r = uint64(uint32(int32(a) >> (b & 31)))
		} else {
			r = uint64(int64(a) >> (b & 63))
		}
	}
	return trunc(r, width)
}

// wideResult reports whether a 64-bit operation on numbers certainly
// leaves the kernel with no bound (any 64-bit value): only then is the
// result wide; where the kernel may have found bounds, it is not.
func wideResult(op asm.ALUOp, d, s value) bool {
	switch op {
	case asm.ALUAdd, asm.ALUSub, asm.ALULsh:
		return d.wide || (s.wide && op != asm.ALULsh)
	case asm.ALUMul:
		return (d.wide || s.wide) && !d.isZero() && !s.isZero()
	case asm.ALUOr, asm.ALUXor, asm.ALUAnd:
		return d.wide && s.wide
	}
	return false
}
