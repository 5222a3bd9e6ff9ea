package vm

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// insnSize is the size of a decoded instruction.
const insnSize = unsafe.Sizeof(insn{})

// interpreter is the portable back end: a dispatch loop over the decoded
// instructions.
type interpreter struct{}

// call is executor.call: it runs from instruction pc in a new frame at
// depth and returns r0 when that frame exits.
func (interpreter) call(m *machine, pc int, r1, r2, r3, r4, r5 uint64, depth int) (uint64, error) {
	if depth >= maxFrames {
		return 0, m.errorf(pc, "call stack too deep (%d frames)", depth+1)
	}
	code := m.p.code
	ar := m.c.arenaOrEmpty()
	// Values the hot loop needs only in some cases live in a struct
	// that stays in memory: the function is too large for the register
	// allocator, which otherwise spills and reloads all of them around
	// every instruction.
	//
	// The arena fast path is inlined by hand: resolve's logic with the
	// window's base folded into one constant. An access that straddles
	// two pages needs both present: the CPU faults before it writes any
	// byte of a store. Arena instructions are only decoded when the
	// collection has an arena, so x.asize >= 4096.
	//
	// What is live from one instruction to the next in registers is pc
	// alone: bs and the budget live in x, and the cases that call out
	// save pc in x.pc around the call, since the register allocator
	// otherwise stores every value live across any call in the loop at
	// the top of every iteration.
	var x struct {
		stack  *[stackSize]byte
		sb     uint64
		amem   unsafe.Pointer // ar.mem's first byte
		abase  uint64
		asize  uint64
		astate []uint32
		depth  int
		nf     int
		loops  uint64
		prof   *runProfile
		pc     int
		bs     int
		budget uint64
	}
	x.stack, x.sb = &m.stack, m.stackBase
	x.amem, x.abase, x.asize, x.astate = unsafe.Pointer(unsafe.SliceData(ar.mem)), ar.hi-ar.start, ar.size, ar.state
	x.depth, x.loops = depth, maxLoops
	if m.prof != nil && m.prof.prog == m.p {
		x.prof = m.prof
	}
	var r [16]uint64 // 16 so that masked indices need no bounds checks
	r[1], r[2], r[3], r[4], r[5] = r1, r2, r3, r4, r5
	r[10] = x.sb + uint64(x.depth+1)*frameSize
	var frames [maxFrames]frame
	// The budget counts instructions exactly but is charged only when
	// control leaves straight-line code (a taken jump, a call, an exit):
	// x.bs is where the current run of instructions began, so pc-x.bs is
	// what it executed. Straight-line code is no longer than the
	// program, so the budget still bounds every run. Helpers that
	// re-enter the interpreter see and update it through m.budget. After
	// an error the run is over and the remaining budget does not matter.
	x.budget = m.budget
	x.bs = pc
	// pc needs no bounds check: decoding resolves every jump, call and
	// callback to an instruction of the program, a fused pair is never
	// the last instruction, and the sentinel after the last instruction
	// stops a run that reaches it.
	code0 := unsafe.Pointer(unsafe.SliceData(code))
	funcs := m.p.funcs
	if pc < 0 || pc >= len(code)-1 {
		return 0, m.errorf(pc, "entry %d outside the program", pc)
	}
	// ip is &code[pc], kept beside pc so that operands load straight
	// from it.
	ip := unsafe.Add(code0, uintptr(pc)*insnSize)
	for {
		in := (*insn)(ip)
		ip = unsafe.Add(ip, insnSize)
		pc++
		switch in.op {
		case opAdd64X:
			r[in.dst&15] += r[in.src&15]
		case opAdd64K:
			r[in.dst&15] += in.imm
		case opAdd32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + uint32(r[in.src&15]))
		case opAdd32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + uint32(in.imm))
		case opSub64X:
			r[in.dst&15] -= r[in.src&15]
		case opSub64K:
			r[in.dst&15] -= in.imm
		case opSub32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - uint32(r[in.src&15]))
		case opSub32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - uint32(in.imm))
		case opMul64X:
			r[in.dst&15] *= r[in.src&15]
		case opMul64K:
			r[in.dst&15] *= in.imm
		case opMul32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * uint32(r[in.src&15]))
		case opMul32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * uint32(in.imm))
		case opOr64X:
			r[in.dst&15] |= r[in.src&15]
		case opOr64K:
			r[in.dst&15] |= in.imm
		case opOr32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | uint32(r[in.src&15]))
		case opOr32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | uint32(in.imm))
		case opAnd64X:
			r[in.dst&15] &= r[in.src&15]
		case opAnd64K:
			r[in.dst&15] &= in.imm
		case opAnd32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & uint32(r[in.src&15]))
		case opAnd32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & uint32(in.imm))
		case opXor64X:
			r[in.dst&15] ^= r[in.src&15]
		case opXor64K:
			r[in.dst&15] ^= in.imm
		case opXor32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ uint32(r[in.src&15]))
		case opXor32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ uint32(in.imm))
		case opLsh64X:
			r[in.dst&15] <<= r[in.src&15] & 63
		case opLsh64K:
			r[in.dst&15] <<= in.imm & 63
		case opLsh32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << (r[in.src&15] & 31))
		case opLsh32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << (in.imm & 31))
		case opRsh64X:
			r[in.dst&15] >>= r[in.src&15] & 63
		case opRsh64K:
			r[in.dst&15] >>= in.imm & 63
		case opRsh32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> (r[in.src&15] & 31))
		case opRsh32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> (in.imm & 31))
		case opArsh64X:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> (r[in.src&15] & 63))
		case opArsh64K:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> (in.imm & 63))
		case opArsh32X:
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) >> (r[in.src&15] & 31)))
		case opArsh32K:
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) >> (in.imm & 31)))
		case opNeg64:
			r[in.dst&15] = -r[in.dst&15]
		case opNeg32:
			r[in.dst&15] = uint64(-uint32(r[in.dst&15]))
		case opMov64X:
			r[in.dst&15] = r[in.src&15]
		case opMov64K:
			r[in.dst&15] = in.imm
		case opMov32X:
			r[in.dst&15] = uint64(uint32(r[in.src&15]))
		case opMov32K:
			r[in.dst&15] = uint64(uint32(in.imm))
		case opMovsx64_8:
			r[in.dst&15] = uint64(int64(int8(r[in.src&15])))
		case opMovsx64_16:
			r[in.dst&15] = uint64(int64(int16(r[in.src&15])))
		case opMovsx64_32:
			r[in.dst&15] = uint64(int64(int32(r[in.src&15])))
		case opMovsx32_8:
			r[in.dst&15] = uint64(uint32(int32(int8(r[in.src&15]))))
		case opMovsx32_16:
			r[in.dst&15] = uint64(uint32(int32(int16(r[in.src&15]))))
		case opDiv64X:
			r[in.dst&15] = div64(r[in.dst&15], r[in.src&15])
		case opMod64X:
			r[in.dst&15] = mod64(r[in.dst&15], r[in.src&15])
		case opSdiv64X:
			r[in.dst&15] = sdiv64(r[in.dst&15], r[in.src&15])
		case opSmod64X:
			r[in.dst&15] = smod64(r[in.dst&15], r[in.src&15])
		case opDiv64K:
			r[in.dst&15] = div64(r[in.dst&15], in.imm)
		case opMod64K:
			r[in.dst&15] = mod64(r[in.dst&15], in.imm)
		case opSdiv64K:
			r[in.dst&15] = sdiv64(r[in.dst&15], in.imm)
		case opSmod64K:
			r[in.dst&15] = smod64(r[in.dst&15], in.imm)
		case opDiv32X:
			r[in.dst&15] = div32(r[in.dst&15], r[in.src&15])
		case opMod32X:
			r[in.dst&15] = mod32(r[in.dst&15], r[in.src&15])
		case opSdiv32X:
			r[in.dst&15] = sdiv32(r[in.dst&15], r[in.src&15])
		case opSmod32X:
			r[in.dst&15] = smod32(r[in.dst&15], r[in.src&15])
		case opDiv32K:
			r[in.dst&15] = div32(r[in.dst&15], in.imm)
		case opMod32K:
			r[in.dst&15] = mod32(r[in.dst&15], in.imm)
		case opSdiv32K:
			r[in.dst&15] = sdiv32(r[in.dst&15], in.imm)
		case opSmod32K:
			r[in.dst&15] = smod32(r[in.dst&15], in.imm)
		case opLe16:
			r[in.dst&15] = uint64(uint16(r[in.dst&15]))
		case opLe32:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]))
		case opLe64:
		case opSwap16:
			r[in.dst&15] = uint64(bits.ReverseBytes16(uint16(r[in.dst&15])))
		case opSwap32:
			r[in.dst&15] = uint64(bits.ReverseBytes32(uint32(r[in.dst&15])))
		case opSwap64:
			r[in.dst&15] = bits.ReverseBytes64(r[in.dst&15])
		case opJeq64X:
			if r[in.dst&15] == r[in.src&15] {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJeq64K:
			if r[in.dst&15] == in.imm {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJeq32X:
			if uint32(r[in.dst&15]) == uint32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJeq32K:
			if uint32(r[in.dst&15]) == uint32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJne64X:
			if r[in.dst&15] != r[in.src&15] {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJne64K:
			if r[in.dst&15] != in.imm {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJne32X:
			if uint32(r[in.dst&15]) != uint32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJne32K:
			if uint32(r[in.dst&15]) != uint32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJgt64X:
			if r[in.dst&15] > r[in.src&15] {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJgt64K:
			if r[in.dst&15] > in.imm {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJgt32X:
			if uint32(r[in.dst&15]) > uint32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJgt32K:
			if uint32(r[in.dst&15]) > uint32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJge64X:
			if r[in.dst&15] >= r[in.src&15] {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJge64K:
			if r[in.dst&15] >= in.imm {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJge32X:
			if uint32(r[in.dst&15]) >= uint32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJge32K:
			if uint32(r[in.dst&15]) >= uint32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJlt64X:
			if r[in.dst&15] < r[in.src&15] {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJlt64K:
			if r[in.dst&15] < in.imm {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJlt32X:
			if uint32(r[in.dst&15]) < uint32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJlt32K:
			if uint32(r[in.dst&15]) < uint32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJle64X:
			if r[in.dst&15] <= r[in.src&15] {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJle64K:
			if r[in.dst&15] <= in.imm {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJle32X:
			if uint32(r[in.dst&15]) <= uint32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJle32K:
			if uint32(r[in.dst&15]) <= uint32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsgt64X:
			if int64(r[in.dst&15]) > int64(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsgt64K:
			if int64(r[in.dst&15]) > int64(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsgt32X:
			if int32(r[in.dst&15]) > int32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsgt32K:
			if int32(r[in.dst&15]) > int32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsge64X:
			if int64(r[in.dst&15]) >= int64(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsge64K:
			if int64(r[in.dst&15]) >= int64(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsge32X:
			if int32(r[in.dst&15]) >= int32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsge32K:
			if int32(r[in.dst&15]) >= int32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJslt64X:
			if int64(r[in.dst&15]) < int64(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJslt64K:
			if int64(r[in.dst&15]) < int64(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJslt32X:
			if int32(r[in.dst&15]) < int32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJslt32K:
			if int32(r[in.dst&15]) < int32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsle64X:
			if int64(r[in.dst&15]) <= int64(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsle64K:
			if int64(r[in.dst&15]) <= int64(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsle32X:
			if int32(r[in.dst&15]) <= int32(r[in.src&15]) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJsle32K:
			if int32(r[in.dst&15]) <= int32(in.imm) {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJset64X:
			if r[in.dst&15]&r[in.src&15] != 0 {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJset64K:
			if r[in.dst&15]&in.imm != 0 {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJset32X:
			if uint32(r[in.dst&15])&uint32(r[in.src&15]) != 0 {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opJset32K:
			if uint32(r[in.dst&15])&uint32(in.imm) != 0 {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			}
		case opLdxB:
			a := r[in.src&15] + in.imm
			if a-x.sb <= stackSize-1 {
				r[in.dst&15] = uint64(*(*uint8)(unsafe.Pointer(&x.stack[a-x.sb])))
			} else {
				d := in.dst & 15
				x.pc = pc
				v, err := m.loadOther(a, 1, pc-1)
				if err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = v
			}
		case opLdxH:
			a := r[in.src&15] + in.imm
			if a-x.sb <= stackSize-2 {
				r[in.dst&15] = uint64(*(*uint16)(unsafe.Pointer(&x.stack[a-x.sb])))
			} else {
				d := in.dst & 15
				x.pc = pc
				v, err := m.loadOther(a, 2, pc-1)
				if err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = v
			}
		case opLdxW:
			a := r[in.src&15] + in.imm
			if a-x.sb <= stackSize-4 {
				r[in.dst&15] = uint64(*(*uint32)(unsafe.Pointer(&x.stack[a-x.sb])))
			} else {
				d := in.dst & 15
				x.pc = pc
				v, err := m.loadOther(a, 4, pc-1)
				if err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = v
			}
		case opLdxDW:
			a := r[in.src&15] + in.imm
			if a-x.sb <= stackSize-8 {
				r[in.dst&15] = uint64(*(*uint64)(unsafe.Pointer(&x.stack[a-x.sb])))
			} else {
				d := in.dst & 15
				x.pc = pc
				v, err := m.loadOther(a, 8, pc-1)
				if err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = v
			}
		case opLdxsB:
			a := r[in.src&15] + in.imm
			if a-x.sb <= stackSize-1 {
				r[in.dst&15] = uint64(int64(*(*int8)(unsafe.Pointer(&x.stack[a-x.sb]))))
			} else {
				d := in.dst & 15
				x.pc = pc
				v, err := m.loadOther(a, 1, pc-1)
				if err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = uint64(int64(int8(v)))
			}
		case opLdxsH:
			a := r[in.src&15] + in.imm
			if a-x.sb <= stackSize-2 {
				r[in.dst&15] = uint64(int64(*(*int16)(unsafe.Pointer(&x.stack[a-x.sb]))))
			} else {
				d := in.dst & 15
				x.pc = pc
				v, err := m.loadOther(a, 2, pc-1)
				if err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = uint64(int64(int16(v)))
			}
		case opLdxsW:
			a := r[in.src&15] + in.imm
			if a-x.sb <= stackSize-4 {
				r[in.dst&15] = uint64(int64(*(*int32)(unsafe.Pointer(&x.stack[a-x.sb]))))
			} else {
				d := in.dst & 15
				x.pc = pc
				v, err := m.loadOther(a, 4, pc-1)
				if err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = uint64(int64(int32(v)))
			}
		case opStxB:
			a := r[in.dst&15] + uint64(int64(in.off))
			if a-x.sb <= stackSize-1 {
				*(*uint8)(unsafe.Pointer(&x.stack[a-x.sb])) = uint8(r[in.src&15])
			} else {
				x.pc = pc
				if err := m.storeOther(a, 1, r[in.src&15], pc-1); err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opStB:
			a := r[in.dst&15] + uint64(int64(in.off))
			if a-x.sb <= stackSize-1 {
				*(*uint8)(unsafe.Pointer(&x.stack[a-x.sb])) = uint8(in.imm)
			} else {
				x.pc = pc
				if err := m.storeOther(a, 1, in.imm, pc-1); err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opStxH:
			a := r[in.dst&15] + uint64(int64(in.off))
			if a-x.sb <= stackSize-2 {
				*(*uint16)(unsafe.Pointer(&x.stack[a-x.sb])) = uint16(r[in.src&15])
			} else {
				x.pc = pc
				if err := m.storeOther(a, 2, r[in.src&15], pc-1); err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opStH:
			a := r[in.dst&15] + uint64(int64(in.off))
			if a-x.sb <= stackSize-2 {
				*(*uint16)(unsafe.Pointer(&x.stack[a-x.sb])) = uint16(in.imm)
			} else {
				x.pc = pc
				if err := m.storeOther(a, 2, in.imm, pc-1); err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opStxW:
			a := r[in.dst&15] + uint64(int64(in.off))
			if a-x.sb <= stackSize-4 {
				*(*uint32)(unsafe.Pointer(&x.stack[a-x.sb])) = uint32(r[in.src&15])
			} else {
				x.pc = pc
				if err := m.storeOther(a, 4, r[in.src&15], pc-1); err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opStW:
			a := r[in.dst&15] + uint64(int64(in.off))
			if a-x.sb <= stackSize-4 {
				*(*uint32)(unsafe.Pointer(&x.stack[a-x.sb])) = uint32(in.imm)
			} else {
				x.pc = pc
				if err := m.storeOther(a, 4, in.imm, pc-1); err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opStxDW:
			a := r[in.dst&15] + uint64(int64(in.off))
			if a-x.sb <= stackSize-8 {
				*(*uint64)(unsafe.Pointer(&x.stack[a-x.sb])) = uint64(r[in.src&15])
			} else {
				x.pc = pc
				if err := m.storeOther(a, 8, r[in.src&15], pc-1); err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opStDW:
			a := r[in.dst&15] + uint64(int64(in.off))
			if a-x.sb <= stackSize-8 {
				*(*uint64)(unsafe.Pointer(&x.stack[a-x.sb])) = uint64(in.imm)
			} else {
				x.pc = pc
				if err := m.storeOther(a, 8, in.imm, pc-1); err != nil {
					return 0, err
				}
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opALdxB:
			if off := x.abase + uint64(uint32(r[in.src&15])) + uint64(int64(in.off)); off <= x.asize-1 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated {
				r[in.dst&15] = uint64(*(*uint8)(unsafe.Add(x.amem, off)))
			} else {
				d := in.dst & 15
				x.pc = pc
				v := m.arenaLoadMiss(r[in.src&15], in.off, 1, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = v
			}
		case opALdxH:
			if off := x.abase + uint64(uint32(r[in.src&15])) + uint64(int64(in.off)); off <= x.asize-2 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-2 || atomic.LoadUint32(&x.astate[(off+1)>>pageShift]) == pageAllocated) {
				r[in.dst&15] = uint64(*(*uint16)(unsafe.Add(x.amem, off)))
			} else {
				d := in.dst & 15
				x.pc = pc
				v := m.arenaLoadMiss(r[in.src&15], in.off, 2, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = v
			}
		case opALdxW:
			if off := x.abase + uint64(uint32(r[in.src&15])) + uint64(int64(in.off)); off <= x.asize-4 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-4 || atomic.LoadUint32(&x.astate[(off+3)>>pageShift]) == pageAllocated) {
				r[in.dst&15] = uint64(*(*uint32)(unsafe.Add(x.amem, off)))
			} else {
				d := in.dst & 15
				x.pc = pc
				v := m.arenaLoadMiss(r[in.src&15], in.off, 4, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = v
			}
		case opALdxDW:
			if off := x.abase + uint64(uint32(r[in.src&15])) + uint64(int64(in.off)); off <= x.asize-8 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-8 || atomic.LoadUint32(&x.astate[(off+7)>>pageShift]) == pageAllocated) {
				r[in.dst&15] = uint64(*(*uint64)(unsafe.Add(x.amem, off)))
			} else {
				d := in.dst & 15
				x.pc = pc
				v := m.arenaLoadMiss(r[in.src&15], in.off, 8, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = v
			}
		case opALdxsB:
			if off := x.abase + uint64(uint32(r[in.src&15])) + uint64(int64(in.off)); off <= x.asize-1 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated {
				r[in.dst&15] = uint64(int64(*(*int8)(unsafe.Add(x.amem, off))))
			} else {
				d := in.dst & 15
				x.pc = pc
				v := m.arenaLoadMiss(r[in.src&15], in.off, 1, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = uint64(int64(int8(v)))
			}
		case opALdxsH:
			if off := x.abase + uint64(uint32(r[in.src&15])) + uint64(int64(in.off)); off <= x.asize-2 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-2 || atomic.LoadUint32(&x.astate[(off+1)>>pageShift]) == pageAllocated) {
				r[in.dst&15] = uint64(int64(*(*int16)(unsafe.Add(x.amem, off))))
			} else {
				d := in.dst & 15
				x.pc = pc
				v := m.arenaLoadMiss(r[in.src&15], in.off, 2, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = uint64(int64(int16(v)))
			}
		case opALdxsW:
			if off := x.abase + uint64(uint32(r[in.src&15])) + uint64(int64(in.off)); off <= x.asize-4 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-4 || atomic.LoadUint32(&x.astate[(off+3)>>pageShift]) == pageAllocated) {
				r[in.dst&15] = uint64(int64(*(*int32)(unsafe.Add(x.amem, off))))
			} else {
				d := in.dst & 15
				x.pc = pc
				v := m.arenaLoadMiss(r[in.src&15], in.off, 4, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				r[d] = uint64(int64(int32(v)))
			}
		case opAStxB:
			if off := x.abase + uint64(uint32(r[in.dst&15])) + uint64(int64(in.off)); off <= x.asize-1 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated {
				*(*uint8)(unsafe.Add(x.amem, off)) = uint8(r[in.src&15])
			} else {
				x.pc = pc
				m.arenaStoreMiss(r[in.dst&15], in.off, 1, r[in.src&15], pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opAStB:
			if off := x.abase + uint64(uint32(r[in.dst&15])) + uint64(int64(in.off)); off <= x.asize-1 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated {
				*(*uint8)(unsafe.Add(x.amem, off)) = uint8(in.imm)
			} else {
				x.pc = pc
				m.arenaStoreMiss(r[in.dst&15], in.off, 1, in.imm, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opAStxH:
			if off := x.abase + uint64(uint32(r[in.dst&15])) + uint64(int64(in.off)); off <= x.asize-2 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-2 || atomic.LoadUint32(&x.astate[(off+1)>>pageShift]) == pageAllocated) {
				*(*uint16)(unsafe.Add(x.amem, off)) = uint16(r[in.src&15])
			} else {
				x.pc = pc
				m.arenaStoreMiss(r[in.dst&15], in.off, 2, r[in.src&15], pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opAStH:
			if off := x.abase + uint64(uint32(r[in.dst&15])) + uint64(int64(in.off)); off <= x.asize-2 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-2 || atomic.LoadUint32(&x.astate[(off+1)>>pageShift]) == pageAllocated) {
				*(*uint16)(unsafe.Add(x.amem, off)) = uint16(in.imm)
			} else {
				x.pc = pc
				m.arenaStoreMiss(r[in.dst&15], in.off, 2, in.imm, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opAStxW:
			if off := x.abase + uint64(uint32(r[in.dst&15])) + uint64(int64(in.off)); off <= x.asize-4 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-4 || atomic.LoadUint32(&x.astate[(off+3)>>pageShift]) == pageAllocated) {
				*(*uint32)(unsafe.Add(x.amem, off)) = uint32(r[in.src&15])
			} else {
				x.pc = pc
				m.arenaStoreMiss(r[in.dst&15], in.off, 4, r[in.src&15], pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opAStW:
			if off := x.abase + uint64(uint32(r[in.dst&15])) + uint64(int64(in.off)); off <= x.asize-4 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-4 || atomic.LoadUint32(&x.astate[(off+3)>>pageShift]) == pageAllocated) {
				*(*uint32)(unsafe.Add(x.amem, off)) = uint32(in.imm)
			} else {
				x.pc = pc
				m.arenaStoreMiss(r[in.dst&15], in.off, 4, in.imm, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opAStxDW:
			if off := x.abase + uint64(uint32(r[in.dst&15])) + uint64(int64(in.off)); off <= x.asize-8 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-8 || atomic.LoadUint32(&x.astate[(off+7)>>pageShift]) == pageAllocated) {
				*(*uint64)(unsafe.Add(x.amem, off)) = uint64(r[in.src&15])
			} else {
				x.pc = pc
				m.arenaStoreMiss(r[in.dst&15], in.off, 8, r[in.src&15], pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opAStDW:
			if off := x.abase + uint64(uint32(r[in.dst&15])) + uint64(int64(in.off)); off <= x.asize-8 && atomic.LoadUint32(&x.astate[off>>pageShift]) == pageAllocated &&
				(off&(pageSize-1) <= pageSize-8 || atomic.LoadUint32(&x.astate[(off+7)>>pageShift]) == pageAllocated) {
				*(*uint64)(unsafe.Add(x.amem, off)) = uint64(in.imm)
			} else {
				x.pc = pc
				m.arenaStoreMiss(r[in.dst&15], in.off, 8, in.imm, pc-1)
				pc = x.pc
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			}
		case opLdImm64:
			r[in.dst&15] = in.imm
		case opAlu64Zext:
			src := in.imm
			if in.jt&srcX != 0 {
				src = r[in.src&15]
			}
			r[in.dst&15] = uint64(uint32(alu64(uint8(in.jt), in.off, r[in.dst&15], src)))
		case opCastUser:
			if v := uint32(r[in.src&15]); v != 0 {
				r[in.dst&15] = uint64(v) | ar.hi
			} else {
				r[in.dst&15] = 0
			}
		case opJa:
			ran := uint64(pc - x.bs)
			if ran > x.budget {
				return 0, m.errorf(pc-1, "%v", ErrBudget)
			}
			x.budget -= ran
			if x.prof != nil {
				x.prof.seg(x.bs, pc)
			}
			pc = int(in.jt)
			ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			x.bs = pc
		case opMovLsh64K:
			r[in.dst&15] = r[in.src&15] << (in.imm & 63)
			pc++
			ip = unsafe.Add(ip, insnSize)
		case opMovRsh64K:
			r[in.dst&15] = r[in.src&15] >> (in.imm & 63)
			pc++
			ip = unsafe.Add(ip, insnSize)
		case opMovAnd64K:
			r[in.dst&15] = r[in.src&15] & in.imm
			pc++
			ip = unsafe.Add(ip, insnSize)
		case opMovAdd64K:
			r[in.dst&15] = r[in.src&15] + in.imm
			pc++
			ip = unsafe.Add(ip, insnSize)
		case opMayGoto:
			if x.loops == 0 {
				ran := uint64(pc - x.bs)
				if ran > x.budget {
					return 0, m.errorf(pc-1, "%v", ErrBudget)
				}
				x.budget -= ran
				if x.prof != nil {
					x.prof.seg(x.bs, pc)
				}
				pc = int(in.jt)
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				x.bs = pc
			} else {
				x.loops--
			}
		case opCall:
			if x.depth+1 >= maxFrames {
				return 0, m.errorf(pc-1, "call stack too deep (%d frames)", x.depth+2)
			}
			frames[x.nf] = frame{ret: pc, r6: r[6], r7: r[7], r8: r[8], r9: r[9], r10: r[10], loops: x.loops}
			x.nf++
			x.depth++
			r[10] = x.sb + uint64(x.depth+1)*frameSize
			x.loops = maxLoops
			ran := uint64(pc - x.bs)
			if ran > x.budget {
				return 0, m.errorf(pc-1, "%v", ErrBudget)
			}
			x.budget -= ran
			if x.prof != nil {
				x.prof.seg(x.bs, pc)
			}
			pc = int(in.jt)
			ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			x.bs = pc
		case opIterNumNext:
			// kfIterNumNext for an iterator on the stack: {cur, end},
			// cur steps until it reaches end, then both are cleared.
			if off := r[1] - x.sb; off <= stackSize-8 && x.prof == nil {
				it := unsafe.Pointer(&x.stack[off])
				cur, end := (*int32)(it), (*int32)(unsafe.Add(it, 4))
				if int64(*cur)+1 >= int64(*end) {
					*cur, *end = 0, 0
					r[0] = 0
				} else {
					*cur++
					r[0] = r[1]
				}
				r[1], r[2], r[3], r[4], r[5] = 0, 0, 0, 0, 0
				continue
			}
			fallthrough
		case opCallHelper:
			ran := uint64(pc - x.bs)
			if ran > x.budget {
				return 0, m.errorf(pc-1, "%v", ErrBudget)
			}
			x.budget -= ran
			if x.prof != nil {
				x.prof.seg(x.bs, pc)
			}
			x.bs = pc
			x.pc = pc
			m.budget = x.budget
			var v uint64
			var err error
			if x.prof == nil {
				v, err = funcs[in.jt](m, r[1], r[2], r[3], r[4], r[5], x.depth)
			} else {
				v, err = x.prof.helper(m, pc-1, funcs[in.jt], r[1], r[2], r[3], r[4], r[5], x.depth)
			}
			x.budget = m.budget
			pc = x.pc
			ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			if err != nil {
				if err != errTailCalled {
					return 0, m.wrapf(pc-1, err)
				}
				// The tail call ran its program in this frame's
				// place; that program's r0 ends the frame.
				r[0] = v
				pc, x.bs = m.p.exitPC, m.p.exitPC
				ip = unsafe.Add(code0, uintptr(pc)*insnSize)
				continue
			}
			r[0] = v
			// Calls clobber r1-r5; poison them as the kernel's
			// verifier assumes, so programs cannot rely on them.
			r[1], r[2], r[3], r[4], r[5] = 0, 0, 0, 0, 0
		case opExit:
			ran := uint64(pc - x.bs)
			if ran > x.budget {
				return 0, m.errorf(pc-1, "%v", ErrBudget)
			}
			x.budget -= ran
			if x.prof != nil {
				x.prof.seg(x.bs, pc)
			}
			if x.nf == 0 {
				m.budget = x.budget
				return r[0], nil
			}
			x.nf--
			f := &frames[x.nf]
			pc = f.ret
			ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			x.bs = pc
			r[6], r[7], r[8], r[9], r[10] = f.r6, f.r7, f.r8, f.r9, f.r10
			x.loops = f.loops
			x.depth--
		case opAtomic:
			x.pc = pc
			v, reg, err := m.atomicOther(in, r[in.dst&15], r[in.src&15], r[0], pc-1)
			if err != nil {
				return 0, err
			}
			pc = x.pc
			ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			if reg >= 0 {
				r[reg&15] = v
			}
		case opAAtomic:
			x.pc = pc
			v, reg := m.atomicArena(ar, in, r[in.dst&15], r[in.src&15], r[0], pc-1)
			pc = x.pc
			ip = unsafe.Add(code0, uintptr(pc)*insnSize)
			if reg >= 0 {
				r[reg&15] = v
			}
		default:
			if pc-1 >= len(m.p.raw) {
				return 0, m.errorf(pc-1, "invalid instruction: the program ends without exit")
			}
			return 0, m.errorf(pc-1, "invalid instruction (opcode %#02x)", m.p.raw[pc-1].OpCode)
		}
	}
}

// Division and modulo as BPF defines them: x/0 is 0 and x%0 is x, the
// 32-bit forms on the low halves with the result zero-extended, and
// INT_MIN/-1 wraps (Go's signed division does the same, without a trap).
// Small enough to be inlined into the dispatch loop.
func div64(a, b uint64) uint64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func mod64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return a % b
}

func sdiv64(a, b uint64) uint64 {
	if b == 0 {
		return 0
	}
	return uint64(int64(a) / int64(b))
}

func smod64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return uint64(int64(a) % int64(b))
}

func div32(a, b uint64) uint64 {
	if uint32(b) == 0 {
		return 0
	}
	return uint64(uint32(a) / uint32(b))
}

func mod32(a, b uint64) uint64 {
	if uint32(b) == 0 {
		return uint64(uint32(a))
	}
	return uint64(uint32(a) % uint32(b))
}

func sdiv32(a, b uint64) uint64 {
	if int32(b) == 0 {
		return 0
	}
	return uint64(uint32(int32(a) / int32(b)))
}

func smod32(a, b uint64) uint64 {
	if int32(b) == 0 {
		return uint64(uint32(a))
	}
	return uint64(uint32(int32(a) % int32(b)))
}
