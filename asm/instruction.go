// Package asm decodes, encodes and prints eBPF instructions.
//
// It covers the instruction set of RFC 9669 through cpu v4 as emitted by
// clang-19 and accepted by Linux 6.18, including the arena extensions
// (addr_space_cast) and may_goto. Printing follows the syntax of the kernel
// verifier log.
package asm

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
