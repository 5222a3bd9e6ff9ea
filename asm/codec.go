package asm

import (
	"encoding/binary"
	"fmt"
)

// Decode decodes a little-endian instruction stream and checks every
// instruction with Validate. An invalid encoding gives a *DecodeError
// (errors.Is(err, ErrInvalidInstruction) holds) that names the field and the
// byte offset of the instruction.
//
// Decode is stricter than the kernel in one corner: the kernel checks most
// fields only on the paths its verifier walks, so an invalid instruction in
// code it proves dead does not stop it (see DecodeError.Early).
func Decode(b []byte) (Instructions, error) {
	return decode(b, true)
}

// DecodeUnchecked splits a little-endian instruction stream into
// instructions without validating their fields. Only what cannot be
// represented as an Instruction is an error: a length that is not a multiple
// of 8, and an ld_imm64 whose second slot is missing or carries anything but
// the upper half of the constant. It suits callers that want to report
// invalid instructions in their own terms, as a verifier does.
func DecodeUnchecked(b []byte) (Instructions, error) {
	return decode(b, false)
}

func decode(b []byte, check bool) (Instructions, error) {
	if rem := len(b) % InstructionSize; rem != 0 {
		return nil, &DecodeError{
			Offset: len(b) - rem,
			OpCode: OpCode(b[len(b)-rem]),
			Field:  "length",
			Reason: fmt.Sprintf("%d bytes is not a whole number of %d-byte slots", len(b), InstructionSize),
			Err:    ErrTruncated,
		}
	}
	insns := make(Instructions, 0, len(b)/InstructionSize)
	for off := 0; off < len(b); {
		ins, n, err := decodeOne(b[off:], check)
		if err != nil {
			if de, ok := err.(*DecodeError); ok {
				de.Offset += off
			}
			return nil, err
		}
		insns = append(insns, ins)
		off += n
	}
	return insns, nil
}

// DecodeOne decodes and validates the instruction at the start of b and
// returns it with the number of bytes it occupies (8, or 16 for ld_imm64).
// Offsets in a returned *DecodeError are relative to b.
func DecodeOne(b []byte) (Instruction, int, error) {
	return decodeOne(b, true)
}

func decodeOne(b []byte, check bool) (Instruction, int, error) {
	if len(b) < InstructionSize {
		var op OpCode
		if len(b) > 0 {
			op = OpCode(b[0])
		}
		return Instruction{}, 0, &DecodeError{
			OpCode: op,
			Field:  "length",
			Reason: fmt.Sprintf("%d bytes left, an instruction needs %d", len(b), InstructionSize),
			Err:    ErrTruncated,
		}
	}
	ins := Instruction{
		OpCode:   OpCode(b[0]),
		Dst:      Register(b[1] & 0xf),
		Src:      Register(b[1] >> 4),
		Offset:   int16(binary.LittleEndian.Uint16(b[2:])),
		Constant: int64(int32(binary.LittleEndian.Uint32(b[4:]))),
	}
	n := InstructionSize
	if ins.OpCode == OpLoadImm64 {
		if len(b) < 2*InstructionSize {
			return Instruction{}, 0, &DecodeError{
				OpCode: ins.OpCode,
				Field:  "second slot",
				Reason: "ld_imm64 is missing its second slot",
				// The kernel checks how a program ends before it looks
				// at ld_imm64 pairs, so this is what it reports.
				Verifier: "last insn is not an exit or jmp",
				Early:    true,
				Err:      ErrTruncated,
			}
		}
		next := b[InstructionSize:]
		if next[0] != 0 || next[1] != 0 || next[2] != 0 || next[3] != 0 {
			return Instruction{}, 0, &DecodeError{
				OpCode:   ins.OpCode,
				Field:    "second slot",
				Reason:   fmt.Sprintf("second slot of ld_imm64 must have zero opcode, registers and offset (got % x)", next[:4]),
				Verifier: "invalid bpf_ld_imm64 insn",
				Early:    true,
				Err:      ErrInvalidInstruction,
			}
		}
		hi := binary.LittleEndian.Uint32(next[4:])
		ins.Constant = int64(uint64(uint32(ins.Constant)) | uint64(hi)<<32)
		n = 2 * InstructionSize
	}
	if check {
		if err := ins.Validate(); err != nil {
			return Instruction{}, 0, err
		}
	}
	return ins, n, nil
}

// Size is the number of bytes the instruction occupies.
func (ins Instruction) Size() int {
	if ins.OpCode == OpLoadImm64 {
		return 2 * InstructionSize
	}
	return InstructionSize
}

// Encode appends the encoding of insns to b.
func (insns Instructions) Encode(b []byte) []byte {
	for _, ins := range insns {
		b = ins.Encode(b)
	}
	return b
}

// Encode appends the little-endian encoding of ins to b. Registers are
// truncated to their 4-bit fields; Validate first to catch that.
func (ins Instruction) Encode(b []byte) []byte {
	var s [2 * InstructionSize]byte
	s[0] = byte(ins.OpCode)
	s[1] = byte(ins.Dst&0xf) | byte(ins.Src&0xf)<<4
	binary.LittleEndian.PutUint16(s[2:], uint16(ins.Offset))
	binary.LittleEndian.PutUint32(s[4:], uint32(ins.Constant))
	if ins.OpCode == OpLoadImm64 {
		binary.LittleEndian.PutUint32(s[12:], uint32(uint64(ins.Constant)>>32))
		return append(b, s[:]...)
	}
	return append(b, s[:InstructionSize]...)
}
