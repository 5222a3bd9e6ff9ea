package asm

import (
	"encoding/binary"
	"fmt"
)

// Decode decodes a little-endian instruction stream.
// (Minimal version; to be completed with full validation.)
func Decode(b []byte) (Instructions, error) {
	if len(b)%InstructionSize != 0 {
		return nil, fmt.Errorf("asm: %d bytes is not a whole number of instructions", len(b))
	}
	var insns Instructions
	for off := 0; off < len(b); {
		ins, n, err := DecodeOne(b[off:])
		if err != nil {
			return nil, fmt.Errorf("asm: instruction at byte %d: %w", off, err)
		}
		insns = append(insns, ins)
		off += n
	}
	return insns, nil
}

// DecodeOne decodes the instruction at the start of b and returns it with
// the number of bytes it occupies (8, or 16 for ld_imm64).
func DecodeOne(b []byte) (Instruction, int, error) {
	if len(b) < InstructionSize {
		return Instruction{}, 0, fmt.Errorf("truncated instruction")
	}
	ins := Instruction{
		OpCode:   OpCode(b[0]),
		Dst:      Register(b[1] & 0xf),
		Src:      Register(b[1] >> 4),
		Offset:   int16(binary.LittleEndian.Uint16(b[2:])),
		Constant: int64(int32(binary.LittleEndian.Uint32(b[4:]))),
	}
	if ins.OpCode == 0x18 {
		if len(b) < 2*InstructionSize {
			return Instruction{}, 0, fmt.Errorf("truncated ld_imm64")
		}
		hi := binary.LittleEndian.Uint32(b[12:])
		ins.Constant = int64(uint64(uint32(ins.Constant)) | uint64(hi)<<32)
		return ins, 16, nil
	}
	return ins, 8, nil
}

// Size is the number of bytes the instruction occupies.
func (ins Instruction) Size() int {
	if ins.OpCode == 0x18 {
		return 16
	}
	return 8
}

// Encode appends the encoding of insns to b.
func (insns Instructions) Encode(b []byte) []byte {
	for _, ins := range insns {
		b = ins.Encode(b)
	}
	return b
}

// Encode appends the encoding of ins to b.
func (ins Instruction) Encode(b []byte) []byte {
	var s [16]byte
	s[0] = byte(ins.OpCode)
	s[1] = byte(ins.Dst&0xf) | byte(ins.Src&0xf)<<4
	binary.LittleEndian.PutUint16(s[2:], uint16(ins.Offset))
	binary.LittleEndian.PutUint32(s[4:], uint32(ins.Constant))
	if ins.OpCode == 0x18 {
		binary.LittleEndian.PutUint32(s[12:], uint32(uint64(ins.Constant)>>32))
		return append(b, s[:16]...)
	}
	return append(b, s[:8]...)
}
