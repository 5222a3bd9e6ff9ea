package asm

import "fmt"

// OpCode is the first byte of an instruction: class, and then either
// size and mode (loads and stores) or operation and source (ALU and jumps).
type OpCode uint8

// Class is the low three bits of an OpCode.
type Class uint8

// Instruction classes.
const (
	ClassLD    Class = 0x00
	ClassLDX   Class = 0x01
	ClassST    Class = 0x02
	ClassSTX   Class = 0x03
	ClassALU   Class = 0x04
	ClassJMP   Class = 0x05
	ClassJMP32 Class = 0x06
	ClassALU64 Class = 0x07
)

// IsALU reports whether c is ALU or ALU64.
func (c Class) IsALU() bool { return c == ClassALU || c == ClassALU64 }

// IsJump reports whether c is JMP or JMP32.
func (c Class) IsJump() bool { return c == ClassJMP || c == ClassJMP32 }

// IsLoadStore reports whether c is one of the four memory classes.
func (c Class) IsLoadStore() bool { return c <= ClassSTX }

// String returns the class name in lower case, such as "alu64".
func (c Class) String() string {
	switch c {
	case ClassLD:
		return "ld"
	case ClassLDX:
		return "ldx"
	case ClassST:
		return "st"
	case ClassSTX:
		return "stx"
	case ClassALU:
		return "alu"
	case ClassJMP:
		return "jmp"
	case ClassJMP32:
		return "jmp32"
	case ClassALU64:
		return "alu64"
	}
	return fmt.Sprintf("Class(%#x)", uint8(c))
}

// Size is the access width field (bits 3-4) of a load or store opcode.
type Size uint8

// Access widths. The numeric values are the encoding, not byte counts.
const (
	SizeW  Size = 0x00 // 4 bytes
	SizeH  Size = 0x08 // 2 bytes
	SizeB  Size = 0x10 // 1 byte
	SizeDW Size = 0x18 // 8 bytes
)

// Bytes is the number of bytes an access of width s touches.
func (s Size) Bytes() int {
	switch s {
	case SizeW:
		return 4
	case SizeH:
		return 2
	case SizeB:
		return 1
	case SizeDW:
		return 8
	}
	return 0
}

// String returns the width name: "b", "h", "w" or "dw".
func (s Size) String() string {
	switch s {
	case SizeW:
		return "w"
	case SizeH:
		return "h"
	case SizeB:
		return "b"
	case SizeDW:
		return "dw"
	}
	return fmt.Sprintf("Size(%#x)", uint8(s))
}

// Mode is the addressing mode field (bits 5-7) of a load or store opcode.
type Mode uint8

// Addressing modes.
const (
	ModeIMM    Mode = 0x00 // ld_imm64 (with SizeDW)
	ModeABS    Mode = 0x20 // legacy packet load, absolute offset
	ModeIND    Mode = 0x40 // legacy packet load, register offset
	ModeMEM    Mode = 0x60 // regular load or store
	ModeMEMSX  Mode = 0x80 // sign-extending load (LDX only, cpu v4)
	ModeATOMIC Mode = 0xc0 // atomic operation (STX only), op in imm
)

// String returns the mode name in lower case, such as "memsx".
func (m Mode) String() string {
	switch m {
	case ModeIMM:
		return "imm"
	case ModeABS:
		return "abs"
	case ModeIND:
		return "ind"
	case ModeMEM:
		return "mem"
	case ModeMEMSX:
		return "memsx"
	case ModeATOMIC:
		return "atomic"
	}
	return fmt.Sprintf("Mode(%#x)", uint8(m))
}

// Source is the operand source bit (bit 3) of ALU and jump opcodes.
type Source uint8

// Operand sources.
const (
	SourceK Source = 0x00 // the 32-bit immediate
	SourceX Source = 0x08 // the src register
)

// Byte order selectors of the ALU (32-bit class) END operation, which share
// the source bit.
const (
	ToLE Source = SourceK
	ToBE Source = SourceX
)

// ALUOp is the operation field (bits 4-7) of an ALU or ALU64 opcode.
type ALUOp uint8

// ALU operations.
const (
	ALUAdd  ALUOp = 0x00
	ALUSub  ALUOp = 0x10
	ALUMul  ALUOp = 0x20
	ALUDiv  ALUOp = 0x30 // sdiv when Offset is 1
	ALUOr   ALUOp = 0x40
	ALUAnd  ALUOp = 0x50
	ALULsh  ALUOp = 0x60
	ALURsh  ALUOp = 0x70
	ALUNeg  ALUOp = 0x80
	ALUMod  ALUOp = 0x90 // smod when Offset is 1
	ALUXor  ALUOp = 0xa0
	ALUMov  ALUOp = 0xb0 // movsx when Offset is 8, 16 or 32; addr_space_cast when 1
	ALUArsh ALUOp = 0xc0
	ALUEnd  ALUOp = 0xd0 // byte swap: ALU|END|ToLE/ToBE, or ALU64|END (bswap)
)

// JumpOp is the operation field (bits 4-7) of a JMP or JMP32 opcode.
type JumpOp uint8

// Jump operations.
const (
	JumpJA    JumpOp = 0x00 // goto (JMP, off) or gotol (JMP32, imm)
	JumpJEQ   JumpOp = 0x10
	JumpJGT   JumpOp = 0x20
	JumpJGE   JumpOp = 0x30
	JumpJSET  JumpOp = 0x40
	JumpJNE   JumpOp = 0x50
	JumpJSGT  JumpOp = 0x60
	JumpJSGE  JumpOp = 0x70
	JumpCall  JumpOp = 0x80
	JumpExit  JumpOp = 0x90
	JumpJLT   JumpOp = 0xa0
	JumpJLE   JumpOp = 0xb0
	JumpJSLT  JumpOp = 0xc0
	JumpJSLE  JumpOp = 0xd0
	JumpJCond JumpOp = 0xe0 // may_goto (JMP|K only, src 0)
)

// AtomicOp is the operation stored in the imm of an STX|ATOMIC instruction.
type AtomicOp int32

// Atomic operations. The read-modify-write ones exist with and without
// AtomicFetch; XCHG and CMPXCHG always fetch.
const (
	AtomicAdd          AtomicOp = 0x00
	AtomicOr           AtomicOp = 0x40
	AtomicAnd          AtomicOp = 0x50
	AtomicXor          AtomicOp = 0xa0
	AtomicFetch        AtomicOp = 0x01
	AtomicXchg         AtomicOp = 0xe0 | AtomicFetch
	AtomicCmpXchg      AtomicOp = 0xf0 | AtomicFetch
	AtomicLoadAcquire  AtomicOp = 0x100 // Linux 6.15+
	AtomicStoreRelease AtomicOp = 0x110 // Linux 6.15+
)

// IsFetch reports whether the old memory value is written back to a register.
func (a AtomicOp) IsFetch() bool {
	return a&AtomicFetch != 0 && a < AtomicLoadAcquire
}

// Valid reports whether a is one of the atomic operations Linux accepts.
func (a AtomicOp) Valid() bool {
	switch a {
	case AtomicAdd, AtomicOr, AtomicAnd, AtomicXor,
		AtomicAdd | AtomicFetch, AtomicOr | AtomicFetch, AtomicAnd | AtomicFetch, AtomicXor | AtomicFetch,
		AtomicXchg, AtomicCmpXchg, AtomicLoadAcquire, AtomicStoreRelease:
		return true
	}
	return false
}

// String returns the operation as the kernel names it in atomic
// instructions, such as "fetch_add" or "cmpxchg".
func (a AtomicOp) String() string {
	switch a {
	case AtomicAdd:
		return "add"
	case AtomicOr:
		return "or"
	case AtomicAnd:
		return "and"
	case AtomicXor:
		return "xor"
	case AtomicAdd | AtomicFetch:
		return "fetch_add"
	case AtomicOr | AtomicFetch:
		return "fetch_or"
	case AtomicAnd | AtomicFetch:
		return "fetch_and"
	case AtomicXor | AtomicFetch:
		return "fetch_xor"
	case AtomicXchg:
		return "xchg"
	case AtomicCmpXchg:
		return "cmpxchg"
	case AtomicLoadAcquire:
		return "load_acquire"
	case AtomicStoreRelease:
		return "store_release"
	}
	return fmt.Sprintf("AtomicOp(%#x)", int32(a))
}

// Class returns the instruction class.
func (op OpCode) Class() Class { return Class(op & 0x07) }

// Size returns the access width of a load or store opcode.
func (op OpCode) Size() Size { return Size(op & 0x18) }

// Mode returns the addressing mode of a load or store opcode.
func (op OpCode) Mode() Mode { return Mode(op & 0xe0) }

// Source returns the operand source of an ALU or jump opcode.
func (op OpCode) Source() Source { return Source(op & 0x08) }

// ALUOp returns the operation of an ALU or ALU64 opcode.
func (op OpCode) ALUOp() ALUOp { return ALUOp(op & 0xf0) }

// JumpOp returns the operation of a JMP or JMP32 opcode.
func (op OpCode) JumpOp() JumpOp { return JumpOp(op & 0xf0) }

// MemOpCode builds the opcode of a load or store.
func MemOpCode(c Class, m Mode, s Size) OpCode {
	return OpCode(uint8(c)&7 | uint8(m)&0xe0 | uint8(s)&0x18)
}

// ALUOpCode builds the opcode of an ALU or ALU64 operation.
func ALUOpCode(c Class, op ALUOp, src Source) OpCode {
	return OpCode(uint8(c)&7 | uint8(op)&0xf0 | uint8(src)&0x08)
}

// JumpOpCode builds the opcode of a JMP or JMP32 operation.
func JumpOpCode(c Class, op JumpOp, src Source) OpCode {
	return OpCode(uint8(c)&7 | uint8(op)&0xf0 | uint8(src)&0x08)
}

// Frequently used complete opcodes.
const (
	OpLoadImm64 OpCode = 0x18 // ClassLD | ModeIMM | SizeDW
	OpCall      OpCode = 0x85 // ClassJMP | JumpCall
	OpExit      OpCode = 0x95 // ClassJMP | JumpExit
	OpJA        OpCode = 0x05 // ClassJMP | JumpJA: goto with a 16-bit offset
	OpGotoL     OpCode = 0x06 // ClassJMP32 | JumpJA: goto with a 32-bit offset in imm
	OpMayGoto   OpCode = 0xe5 // ClassJMP | JumpJCond
	OpMov64Reg  OpCode = 0xbf // ClassALU64 | ALUMov | SourceX, also addr_space_cast
)

// String returns the opcode in hex, such as "0xbf".
func (op OpCode) String() string { return fmt.Sprintf("0x%02x", uint8(op)) }

// Pseudo source register values of ld_imm64 (BPF_PSEUDO_*).
const (
	PseudoMapFD       Register = 1 // imm: map fd
	PseudoMapValue    Register = 2 // imm: map fd, imm2: offset in value
	PseudoBTFID       Register = 3 // imm: BTF id of a ksym variable
	PseudoFunc        Register = 4 // imm: relative offset of a subprogram
	PseudoMapIdx      Register = 5 // imm: index into fd_array
	PseudoMapIdxValue Register = 6 // imm: index into fd_array, imm2: offset
)

// Pseudo source register values of calls.
const (
	PseudoHelperCall Register = 0 // imm: helper id
	PseudoCall       Register = 1 // imm: relative offset of a subprogram
	PseudoKfuncCall  Register = 2 // imm: BTF id of a kfunc, off: fd_array index of its module BTF
)

// MayGoto is the src value of the may_goto form of JMP|JCOND, the only one.
const MayGoto Register = 0

// Arena address space cast (ALU64|MOV|X with Offset = AddrSpaceCastOffset).
const (
	AddrSpaceCastOffset = 1
	// CastToArena is the imm of rX = addr_space_cast(rY, 0, 1).
	CastToArena = 1
	// CastToUser is the imm of rX = addr_space_cast(rY, 1, 0).
	CastToUser = 1 << 16
)

// Offset values that select the signed variants of ALU operations.
const (
	// SignedDivModOffset turns DIV into sdiv and MOD into smod.
	SignedDivModOffset = 1
)
