package asm

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

// Arena address space cast (ALU64|MOV|X with Offset = AddrSpaceCastOffset).
const (
	AddrSpaceCastOffset = 1
	// CastToArena is the imm of rX = addr_space_cast(rY, 0, 1).
	CastToArena = 1
	// CastToUser is the imm of rX = addr_space_cast(rY, 1, 0).
	CastToUser = 1 << 16
)
