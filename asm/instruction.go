// Package asm decodes, validates, encodes and prints eBPF instructions.
//
// It covers the instruction set of RFC 9669 through cpu v4 as emitted by
// clang-19 and accepted by Linux 6.18: sign-extending loads and moves,
// signed division, byte swaps, gotol, may_goto, the atomic operations
// including load-acquire and store-release, and the arena's
// addr_space_cast.
//
// An Instruction is one instruction, not one 8-byte slot: ld_imm64 is a
// single Instruction holding its whole 64-bit constant. Jump, call and
// pseudo func targets count in slots; Instructions.Offsets and
// IndexOfSlot translate between the two.
//
// Decode accepts exactly the encodings Linux accepts, judged instruction by
// instruction, and names the offending field and byte offset otherwise;
// DecodeError.Verifier carries the line the kernel's verifier would log.
// DecodeUnchecked keeps invalid instructions so that a verifier can report
// them itself.
//
// Printing follows the kernel verifier log (kernel/bpf/disasm.c):
// Instruction.String gives the bare text, Formatter adds the opcode column
// and names for helpers, kfuncs and what ld_imm64 loads. Parse and Assemble
// read that syntax back, so tests can write programs as text and verifier
// logs can be replayed.
package asm

import "fmt"

// Register is one of the eleven BPF registers.
type Register uint8

// The registers. R10 is the read-only frame pointer.
const (
	R0 Register = iota
	R1
	R2
	R3
	R4
	R5
	R6
	R7
	R8
	R9
	R10
)

// InstructionSize is the size in bytes of one instruction slot.
// A wide instruction (ld_imm64) occupies two slots.
const InstructionSize = 8

// Instruction is one decoded instruction.
//
// ld_imm64 (opcode 0x18) is represented by a single Instruction whose
// Constant holds the full 64-bit value: the low 32 bits come from the first
// slot's imm and the high 32 bits from the second slot's imm. For pseudo
// sources that is (fd or index) | offset<<32.
type Instruction struct {
	OpCode   OpCode
	Dst      Register
	Src      Register
	Offset   int16
	Constant int64
}

// Instructions is a program: one entry per instruction, not per slot.
type Instructions []Instruction

// MaxRegister is the highest register number an instruction may name.
const MaxRegister = R10

// RFP is the read-only frame pointer.
const RFP = R10

// String returns the register name, "r0" to "r10".
func (r Register) String() string { return fmt.Sprintf("r%d", uint8(r)) }

// Class returns the instruction class.
func (ins Instruction) Class() Class { return ins.OpCode.Class() }

// Mode returns the addressing mode; meaningful for the load and store classes.
func (ins Instruction) Mode() Mode { return ins.OpCode.Mode() }

// Imm returns the 32-bit immediate of a single-slot instruction.
func (ins Instruction) Imm() int32 { return int32(ins.Constant) }

// Slots is the number of 8-byte slots the instruction occupies.
func (ins Instruction) Slots() int { return ins.Size() / InstructionSize }

// AccessSize returns the number of bytes a load, store or atomic touches,
// and 0 for any other instruction (ld_imm64 included, which reads no memory).
func (ins Instruction) AccessSize() int {
	switch ins.Class() {
	case ClassLDX, ClassST, ClassSTX:
		return ins.OpCode.Size().Bytes()
	case ClassLD:
		if m := ins.Mode(); m == ModeABS || m == ModeIND {
			return ins.OpCode.Size().Bytes()
		}
	}
	return 0
}

// IsLoadImm64 reports whether ins is the two-slot ld_imm64.
func (ins Instruction) IsLoadImm64() bool { return ins.OpCode == OpLoadImm64 }

// IsPseudoFunc reports whether ins loads the address of a subprogram;
// Constant is then the offset of its first slot relative to the next slot.
func (ins Instruction) IsPseudoFunc() bool { return ins.IsLoadImm64() && ins.Src == PseudoFunc }

// IsLoad reports whether ins reads memory into a register (LDX, legacy packet
// loads and load-acquire).
func (ins Instruction) IsLoad() bool {
	switch ins.Class() {
	case ClassLDX:
		return true
	case ClassLD:
		return ins.Mode() == ModeABS || ins.Mode() == ModeIND
	case ClassSTX:
		return ins.IsAtomic() && ins.AtomicOp() == AtomicLoadAcquire
	}
	return false
}

// IsLoadSX reports whether ins is a sign-extending load.
func (ins Instruction) IsLoadSX() bool { return ins.Class() == ClassLDX && ins.Mode() == ModeMEMSX }

// IsStore reports whether ins is a plain store (ST or STX with ModeMEM).
func (ins Instruction) IsStore() bool {
	c := ins.Class()
	return (c == ClassST || c == ClassSTX) && ins.Mode() == ModeMEM
}

// IsAtomic reports whether ins is an STX|ATOMIC instruction.
func (ins Instruction) IsAtomic() bool { return ins.Class() == ClassSTX && ins.Mode() == ModeATOMIC }

// AtomicOp returns the operation of an atomic instruction.
func (ins Instruction) AtomicOp() AtomicOp { return AtomicOp(int32(ins.Constant)) }

// IsALU reports whether ins is in the ALU or ALU64 class.
func (ins Instruction) IsALU() bool { return ins.Class().IsALU() }

// ALUOp returns the operation of an ALU instruction.
func (ins Instruction) ALUOp() ALUOp { return ins.OpCode.ALUOp() }

// JumpOp returns the operation of a jump-class instruction.
func (ins Instruction) JumpOp() JumpOp { return ins.OpCode.JumpOp() }

// IsAddrSpaceCast reports whether ins is an arena address space cast.
func (ins Instruction) IsAddrSpaceCast() bool {
	return ins.OpCode == OpMov64Reg && ins.Offset == AddrSpaceCastOffset
}

// CastAddressSpaces returns the destination and source address spaces of an
// addr_space_cast, as printed: addr_space_cast(rY, dst, src).
func (ins Instruction) CastAddressSpaces() (dst, src int) {
	imm := uint32(ins.Constant)
	return int(imm >> 16), int(imm & 0xffff)
}

// IsMovSX reports whether ins is a sign-extending register move; the
// extension width in bits is then Offset.
func (ins Instruction) IsMovSX() bool {
	if !ins.IsALU() || ins.ALUOp() != ALUMov || ins.OpCode.Source() != SourceX {
		return false
	}
	return ins.Offset == 8 || ins.Offset == 16 || (ins.Offset == 32 && ins.Class() == ClassALU64)
}

// IsSignedDivMod reports whether ins is sdiv or smod.
func (ins Instruction) IsSignedDivMod() bool {
	op := ins.ALUOp()
	return ins.IsALU() && (op == ALUDiv || op == ALUMod) && ins.Offset == SignedDivModOffset
}

// IsByteSwap reports whether ins is an END operation (le/be or bswap).
func (ins Instruction) IsByteSwap() bool { return ins.IsALU() && ins.ALUOp() == ALUEnd }

// IsCall reports whether ins is a call of any kind.
func (ins Instruction) IsCall() bool { return ins.OpCode == OpCall }

// IsHelperCall reports whether ins calls a helper function by id.
func (ins Instruction) IsHelperCall() bool { return ins.IsCall() && ins.Src == PseudoHelperCall }

// IsKfuncCall reports whether ins calls a kernel function by BTF id.
func (ins Instruction) IsKfuncCall() bool { return ins.IsCall() && ins.Src == PseudoKfuncCall }

// IsSubprogCall reports whether ins calls a BPF subprogram; Constant is then
// the offset of its first slot relative to the next slot.
func (ins Instruction) IsSubprogCall() bool { return ins.IsCall() && ins.Src == PseudoCall }

// IsExit reports whether ins is exit.
func (ins Instruction) IsExit() bool { return ins.OpCode == OpExit }

// IsMayGoto reports whether ins is may_goto.
func (ins Instruction) IsMayGoto() bool { return ins.OpCode == OpMayGoto && ins.Src == MayGoto }

// IsUnconditionalJump reports whether ins is goto or gotol.
func (ins Instruction) IsUnconditionalJump() bool { return ins.OpCode == OpJA || ins.OpCode == OpGotoL }

// IsConditionalJump reports whether ins branches on a comparison or is
// may_goto: execution either falls through or goes to the target.
func (ins Instruction) IsConditionalJump() bool {
	if !ins.Class().IsJump() {
		return false
	}
	switch ins.JumpOp() {
	case JumpJA, JumpCall, JumpExit:
		return false
	}
	return true
}

// IsJump reports whether ins transfers control within the function: goto,
// gotol, a conditional jump or may_goto. Calls and exit are not jumps.
func (ins Instruction) IsJump() bool { return ins.IsUnconditionalJump() || ins.IsConditionalJump() }

// JumpTarget returns the target of a jump, a subprogram call or a pseudo
// func ld_imm64, in slots relative to the slot after the instruction's first
// (for ld_imm64 that is its own second slot). ok is false for
// any other instruction.
func (ins Instruction) JumpTarget() (rel int, ok bool) {
	switch {
	case ins.OpCode == OpGotoL, ins.IsSubprogCall(), ins.IsPseudoFunc():
		return int(int32(ins.Constant)), true
	case ins.IsJump():
		return int(ins.Offset), true
	}
	return 0, false
}
