package asm

import (
	"errors"
	"fmt"
)

// ErrInvalidInstruction is wrapped by every error about an instruction
// whose encoding Linux rejects.
var ErrInvalidInstruction = errors.New("invalid instruction")

// ErrTruncated is wrapped by errors about input that ends inside an
// instruction. errors.Is(err, ErrInvalidInstruction) holds for them too.
var ErrTruncated = errors.New("truncated instruction")

// DecodeError describes an instruction with an invalid encoding.
type DecodeError struct {
	// Offset is the byte offset of the instruction's first slot in the
	// decoded input (0 for Validate and DecodeOne).
	Offset int
	// OpCode is the instruction's opcode byte.
	OpCode OpCode
	// Field names what is wrong: "opcode", "mode", "dst", "src", "off",
	// "imm", "second slot" (of ld_imm64) or "length".
	Field string
	// Reason explains the problem.
	Reason string
	// Verifier is the line the Linux verifier logs when it rejects the same
	// instruction, without the trailing newline; empty when it has none.
	Verifier string
	// Early is set for the problems Linux finds in its first pass over
	// every instruction, before it walks the program: unknown opcodes,
	// reserved LDX fields and malformed ld_imm64. The kernel reports the
	// first of those in program order, and it does not log the
	// instruction. The other problems surface only when the walk reaches
	// the instruction, right after the verifier logs it.
	Early bool
	// Err is ErrInvalidInstruction or ErrTruncated.
	Err error
}

// Error says where the instruction is, which field is wrong and why.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("asm: instruction at byte %d (opcode 0x%02x): %s: %s", e.Offset, uint8(e.OpCode), e.Field, e.Reason)
}

// Unwrap lets errors.Is match both ErrInvalidInstruction and the more
// specific ErrTruncated.
func (e *DecodeError) Unwrap() []error {
	if e.Err == nil || e.Err == ErrInvalidInstruction {
		return []error{ErrInvalidInstruction}
	}
	return []error{e.Err, ErrInvalidInstruction}
}

func (ins Instruction) invalid(field, verifier, format string, args ...any) *DecodeError {
	return &DecodeError{
		OpCode:   ins.OpCode,
		Field:    field,
		Reason:   fmt.Sprintf(format, args...),
		Verifier: verifier,
		Err:      ErrInvalidInstruction,
	}
}

func (ins Instruction) unknownOpcode() *DecodeError {
	return ins.invalid("opcode", fmt.Sprintf("unknown opcode %02x", uint8(ins.OpCode)), "unknown opcode 0x%02x", uint8(ins.OpCode)).early()
}

func (e *DecodeError) early() *DecodeError {
	e.Early = true
	return e
}

func (ins Instruction) checkReg(field string, r Register) *DecodeError {
	if r > MaxRegister {
		return ins.invalid(field, fmt.Sprintf("R%d is invalid", r), "register r%d does not exist", r)
	}
	return nil
}

// Validate reports whether Linux 6.18 accepts the encoding of ins, judging
// each instruction on its own: opcode, reserved fields and register
// numbers. Semantic checks (division by a zero constant, shift counts,
// jump ranges, register state) are left to a verifier. The error is a
// *DecodeError whose Verifier field carries the kernel's message.
func (ins Instruction) Validate() error {
	if err := ins.validate(); err != nil {
		return err
	}
	return nil
}

func (ins Instruction) validate() *DecodeError {
	if !ins.IsLoadImm64() && ins.Constant != int64(int32(ins.Constant)) {
		return ins.invalid("imm", "", "constant %#x does not fit the 32-bit imm of a single-slot instruction", ins.Constant)
	}
	if ins.Dst > 0xf || ins.Src > 0xf {
		// Out of the 4-bit fields: cannot even be encoded.
		if ins.Dst > 0xf {
			return ins.checkReg("dst", ins.Dst)
		}
		return ins.checkReg("src", ins.Src)
	}
	switch ins.Class() {
	case ClassLD:
		return ins.validateLD()
	case ClassLDX:
		return ins.validateLDX()
	case ClassST:
		return ins.validateST()
	case ClassSTX:
		return ins.validateSTX()
	case ClassALU, ClassALU64:
		return ins.validateALU()
	default:
		return ins.validateJump()
	}
}

func (ins Instruction) validateLD() *DecodeError {
	switch {
	case ins.OpCode == OpLoadImm64:
		if ins.Src > PseudoMapIdxValue {
			return ins.invalid("src", "unrecognized bpf_ld_imm64 insn", "ld_imm64 pseudo source %d is unknown (0..6)", ins.Src).early()
		}
		if ins.Offset != 0 {
			return ins.invalid("off", "BPF_LD_IMM64 uses reserved fields", "off must be 0 (got %d)", ins.Offset)
		}
		return ins.checkReg("dst", ins.Dst)
	case (ins.Mode() == ModeABS || ins.Mode() == ModeIND) && ins.OpCode.Size() != SizeDW:
		const msg = "BPF_LD_[ABS|IND] uses reserved fields"
		if ins.Dst != R0 {
			return ins.invalid("dst", msg, "dst must be r0 (got r%d)", ins.Dst)
		}
		if ins.Offset != 0 {
			return ins.invalid("off", msg, "off must be 0 (got %d)", ins.Offset)
		}
		if ins.Mode() == ModeABS && ins.Src != R0 {
			return ins.invalid("src", msg, "src must be 0 (got %d)", ins.Src)
		}
		return ins.checkReg("src", ins.Src)
	}
	return ins.unknownOpcode()
}

func (ins Instruction) validateLDX() *DecodeError {
	// The kernel checks mode and imm in one pass over the program before
	// it consults its opcode table, hence the reserved-fields message for a
	// bad mode.
	const msg = "BPF_LDX uses reserved fields"
	if m := ins.Mode(); m != ModeMEM && m != ModeMEMSX {
		return ins.invalid("mode", msg, "LDX mode must be MEM or MEMSX (got %v)", m).early()
	}
	if ins.Constant != 0 {
		return ins.invalid("imm", msg, "imm must be 0 (got %d)", ins.Constant).early()
	}
	if ins.Mode() == ModeMEMSX && ins.OpCode.Size() == SizeDW {
		return ins.unknownOpcode()
	}
	if err := ins.checkReg("dst", ins.Dst); err != nil {
		return err
	}
	return ins.checkReg("src", ins.Src)
}

func (ins Instruction) validateST() *DecodeError {
	if ins.Mode() != ModeMEM {
		return ins.unknownOpcode()
	}
	if ins.Src != 0 {
		return ins.invalid("src", "BPF_ST uses reserved fields", "src must be 0 (got %d)", ins.Src)
	}
	return ins.checkReg("dst", ins.Dst)
}

func (ins Instruction) validateSTX() *DecodeError {
	switch ins.Mode() {
	case ModeMEM:
		if ins.Constant != 0 {
			return ins.invalid("imm", "BPF_STX uses reserved fields", "imm must be 0 (got %d)", ins.Constant)
		}
	case ModeATOMIC:
		op := ins.AtomicOp()
		if !op.Valid() {
			return ins.invalid("imm", fmt.Sprintf("BPF_ATOMIC uses invalid atomic opcode %02x", uint32(op)), "unknown atomic operation %#x", uint32(op))
		}
		size := ins.OpCode.Size()
		if op != AtomicLoadAcquire && op != AtomicStoreRelease && size != SizeW && size != SizeDW {
			return ins.invalid("opcode", "invalid atomic operand size", "atomic %s needs a 4- or 8-byte access (got %d)", op, size.Bytes())
		}
	default:
		return ins.unknownOpcode()
	}
	if err := ins.checkReg("dst", ins.Dst); err != nil {
		return err
	}
	return ins.checkReg("src", ins.Src)
}

func (ins Instruction) validateALU() *DecodeError {
	op := ins.ALUOp()
	x := ins.OpCode.Source() == SourceX
	alu64 := ins.Class() == ClassALU64
	switch {
	case op > ALUEnd,
		op == ALUNeg && x,
		op == ALUEnd && alu64 && x:
		return ins.unknownOpcode()
	case op == ALUNeg:
		const msg = "BPF_NEG uses reserved fields"
		if ins.Src != 0 {
			return ins.invalid("src", msg, "src must be 0 (got %d)", ins.Src)
		}
		if ins.Offset != 0 {
			return ins.invalid("off", msg, "off must be 0 (got %d)", ins.Offset)
		}
		if ins.Constant != 0 {
			return ins.invalid("imm", msg, "imm must be 0 (got %d)", ins.Constant)
		}
	case op == ALUEnd:
		const msg = "BPF_END uses reserved fields"
		if ins.Src != 0 {
			return ins.invalid("src", msg, "src must be 0 (got %d)", ins.Src)
		}
		if ins.Offset != 0 {
			return ins.invalid("off", msg, "off must be 0 (got %d)", ins.Offset)
		}
		if c := ins.Constant; c != 16 && c != 32 && c != 64 {
			return ins.invalid("imm", msg, "imm must be 16, 32 or 64 (got %d)", c)
		}
	case op == ALUMov && x:
		const msg = "BPF_MOV uses reserved fields"
		switch {
		case alu64 && ins.Offset == AddrSpaceCastOffset:
			if c := ins.Constant; c != CastToArena && c != CastToUser {
				return ins.invalid("imm", "addr_space_cast insn can only convert between address space 1 and 0",
					"addr_space_cast imm must be 1 or 0x10000 (got %#x)", c)
			}
		case ins.Offset != 0 && ins.Offset != 8 && ins.Offset != 16 && (!alu64 || ins.Offset != 32):
			if alu64 {
				return ins.invalid("off", msg, "off must be 0, 8, 16, 32 (movsx) or 1 (addr_space_cast) (got %d)", ins.Offset)
			}
			return ins.invalid("off", msg, "off must be 0, 8 or 16 (movsx) (got %d)", ins.Offset)
		case ins.Constant != 0:
			return ins.invalid("imm", msg, "imm must be 0 (got %d)", ins.Constant)
		}
	case op == ALUMov:
		const msg = "BPF_MOV uses reserved fields"
		if ins.Src != 0 {
			return ins.invalid("src", msg, "src must be 0 (got %d)", ins.Src)
		}
		if ins.Offset != 0 {
			return ins.invalid("off", msg, "off must be 0 (got %d)", ins.Offset)
		}
	default:
		const msg = "BPF_ALU uses reserved fields"
		if x && ins.Constant != 0 {
			return ins.invalid("imm", msg, "imm must be 0 (got %d)", ins.Constant)
		}
		if !x && ins.Src != 0 {
			return ins.invalid("src", msg, "src must be 0 (got %d)", ins.Src)
		}
		if ins.Offset != 0 && (ins.Offset != SignedDivModOffset || (op != ALUDiv && op != ALUMod)) {
			if op == ALUDiv || op == ALUMod {
				return ins.invalid("off", msg, "off must be 0 or 1 (signed) (got %d)", ins.Offset)
			}
			return ins.invalid("off", msg, "off must be 0 (got %d)", ins.Offset)
		}
	}
	if err := ins.checkReg("dst", ins.Dst); err != nil {
		return err
	}
	if x {
		return ins.checkReg("src", ins.Src)
	}
	return nil
}

func (ins Instruction) validateJump() *DecodeError {
	op := ins.JumpOp()
	x := ins.OpCode.Source() == SourceX
	jmp32 := ins.Class() == ClassJMP32
	switch {
	case op > JumpJCond,
		x && (op == JumpJA || op == JumpCall || op == JumpExit || op == JumpJCond),
		jmp32 && (op == JumpCall || op == JumpExit || op == JumpJCond):
		return ins.unknownOpcode()
	case op == JumpCall:
		const msg = "BPF_CALL uses reserved fields"
		if ins.Src != PseudoHelperCall && ins.Src != PseudoCall && ins.Src != PseudoKfuncCall {
			return ins.invalid("src", msg, "src must be 0 (helper), 1 (subprogram) or 2 (kfunc) (got %d)", ins.Src)
		}
		if ins.Src != PseudoKfuncCall && ins.Offset != 0 {
			return ins.invalid("off", msg, "off must be 0 unless calling a kfunc (got %d)", ins.Offset)
		}
		if ins.Dst != 0 {
			return ins.invalid("dst", msg, "dst must be 0 (got %d)", ins.Dst)
		}
	case op == JumpJA:
		const msg = "BPF_JA uses reserved fields"
		if ins.Src != 0 {
			return ins.invalid("src", msg, "src must be 0 (got %d)", ins.Src)
		}
		if ins.Dst != 0 {
			return ins.invalid("dst", msg, "dst must be 0 (got %d)", ins.Dst)
		}
		if !jmp32 && ins.Constant != 0 {
			return ins.invalid("imm", msg, "goto takes its target from off; imm must be 0 (got %d)", ins.Constant)
		}
		if jmp32 && ins.Offset != 0 {
			return ins.invalid("off", msg, "gotol takes its target from imm; off must be 0 (got %d)", ins.Offset)
		}
	case op == JumpExit:
		// The kernel ignores off of exit, so it is not checked here either.
		const msg = "BPF_EXIT uses reserved fields"
		if ins.Src != 0 {
			return ins.invalid("src", msg, "src must be 0 (got %d)", ins.Src)
		}
		if ins.Dst != 0 {
			return ins.invalid("dst", msg, "dst must be 0 (got %d)", ins.Dst)
		}
		if ins.Constant != 0 {
			return ins.invalid("imm", msg, "imm must be 0 (got %d)", ins.Constant)
		}
	case op == JumpJCond:
		msg := fmt.Sprintf("invalid may_goto imm %d", ins.Constant)
		if ins.Src != MayGoto {
			return ins.invalid("src", msg, "src must be 0 (may_goto) (got %d)", ins.Src)
		}
		if ins.Dst != 0 {
			return ins.invalid("dst", msg, "dst must be 0 (got %d)", ins.Dst)
		}
		if ins.Constant != 0 {
			return ins.invalid("imm", msg, "imm must be 0 (got %d)", ins.Constant)
		}
	default:
		// The kernel reads the dst operand before it looks at the
		// reserved fields of a conditional jump.
		if err := ins.checkReg("dst", ins.Dst); err != nil {
			return err
		}
		const msg = "BPF_JMP/JMP32 uses reserved fields"
		if x && ins.Constant != 0 {
			return ins.invalid("imm", msg, "imm must be 0 when comparing registers (got %d)", ins.Constant)
		}
		if !x && ins.Src != 0 {
			return ins.invalid("src", msg, "src must be 0 when comparing with imm (got %d)", ins.Src)
		}
		if x {
			return ins.checkReg("src", ins.Src)
		}
	}
	return nil
}
