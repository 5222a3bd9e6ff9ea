package verifier

import (
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

// A tiny assembler for hand-written test programs.

type ins = asm.Instruction

const (
	b  = 0x10 // size bits: byte
	h  = 0x08 // half
	w  = 0x00 // word
	dw = 0x18 // double word
)

func movImm(dst asm.Register, imm int64) ins { return ins{OpCode: 0xb7, Dst: dst, Constant: imm} }
func mov32Imm(dst asm.Register, imm int64) ins {
	return ins{OpCode: 0xb4, Dst: dst, Constant: imm}
}
func mov(dst, src asm.Register) ins   { return ins{OpCode: 0xbf, Dst: dst, Src: src} }
func mov32(dst, src asm.Register) ins { return ins{OpCode: 0xbc, Dst: dst, Src: src} }
func cast(dst, src asm.Register, imm int64) ins {
	return ins{OpCode: 0xbf, Dst: dst, Src: src, Offset: 1, Constant: imm}
}
func toArena(dst, src asm.Register) ins { return cast(dst, src, 1) }
func aluImm(op asm.ALUOp, dst asm.Register, imm int64) ins {
	return ins{OpCode: asm.OpCode(0x07 | uint8(op)), Dst: dst, Constant: imm}
}
func alu32Imm(op asm.ALUOp, dst asm.Register, imm int64) ins {
	return ins{OpCode: asm.OpCode(0x04 | uint8(op)), Dst: dst, Constant: imm}
}
func aluReg(op asm.ALUOp, dst, src asm.Register) ins {
	return ins{OpCode: asm.OpCode(0x0f | uint8(op)), Dst: dst, Src: src}
}
func ldx(size uint8, dst, src asm.Register, off int16) ins {
	return ins{OpCode: asm.OpCode(0x61 | size), Dst: dst, Src: src, Offset: off}
}
func ldxsx(size uint8, dst, src asm.Register, off int16) ins {
	return ins{OpCode: asm.OpCode(0x81 | size), Dst: dst, Src: src, Offset: off}
}
func stx(size uint8, dst asm.Register, off int16, src asm.Register) ins {
	return ins{OpCode: asm.OpCode(0x63 | size), Dst: dst, Src: src, Offset: off}
}
func st(size uint8, dst asm.Register, off int16, imm int64) ins {
	return ins{OpCode: asm.OpCode(0x62 | size), Dst: dst, Offset: off, Constant: imm}
}
func atomic(size uint8, op asm.AtomicOp, dst asm.Register, off int16, src asm.Register) ins {
	return ins{OpCode: asm.OpCode(0xc3 | size), Dst: dst, Src: src, Offset: off, Constant: int64(op)}
}
func jeqImm(dst asm.Register, imm int64, off int16) ins {
	return ins{OpCode: 0x15, Dst: dst, Constant: imm, Offset: off}
}
func jneImm(dst asm.Register, imm int64, off int16) ins {
	return ins{OpCode: 0x55, Dst: dst, Constant: imm, Offset: off}
}
func jgtImm(dst asm.Register, imm int64, off int16) ins {
	return ins{OpCode: 0x25, Dst: dst, Constant: imm, Offset: off}
}
func ja(off int16) ins                    { return ins{OpCode: 0x05, Offset: off} }
func exit() ins                           { return ins{OpCode: 0x95} }
func helper(id int64) ins                 { return ins{OpCode: 0x85, Constant: id} }
func kcall() ins                          { return ins{OpCode: 0x85, Src: asm.PseudoKfuncCall, Constant: 1} }
func pcall(rel int64) ins                 { return ins{OpCode: 0x85, Src: asm.PseudoCall, Constant: rel} }
func ldImm(dst asm.Register, c int64) ins { return ins{OpCode: 0x18, Dst: dst, Constant: c} }
func ldMap(dst asm.Register) ins {
	return ins{OpCode: 0x18, Dst: dst, Src: asm.PseudoMapFD, Constant: 3}
}
func ldMapValue(dst asm.Register, off uint32) ins {
	return ins{OpCode: 0x18, Dst: dst, Src: asm.PseudoMapValue, Constant: 3 | int64(off)<<32}
}
func ldFunc(dst asm.Register, rel int64) ins {
	return ins{OpCode: 0x18, Dst: dst, Src: asm.PseudoFunc, Constant: rel}
}

var (
	testArena  = &object.MapSpec{Name: "arena", Type: object.Arena, MaxEntries: 10, Flags: object.FlagMmapable}
	testArena2 = &object.MapSpec{Name: "arena2", Type: object.Arena, MaxEntries: 10, Flags: object.FlagMmapable}
	testBSS    = &object.MapSpec{Name: ".bss", Type: object.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1, Section: ".bss"}
	testRodata = &object.MapSpec{Name: ".rodata", Type: object.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Section: ".rodata", ReadOnly: true, Flags: object.FlagRdonlyProg, Contents: []byte{1, 0, 0, 0, 0, 0, 0, 0}}
	testHash   = &object.MapSpec{Name: "hash", Type: object.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16}
)

func mapRel(m *object.MapSpec) object.Relocation {
	return object.Relocation{Kind: object.RelocMap, Map: m}
}
func valRel(m *object.MapSpec, off uint32) object.Relocation {
	return object.Relocation{Kind: object.RelocMapValue, Map: m, Offset: off}
}
func kfRel(name string) object.Relocation {
	return object.Relocation{Kind: object.RelocKfunc, Extern: &object.ExternSpec{Name: name, Kind: object.ExternKfunc}}
}

// prog builds a syscall program. relocs are keyed by instruction index.
func prog(insns []ins, relocs map[int]object.Relocation) *object.ProgramSpec {
	return &object.ProgramSpec{Name: "test", Type: object.Syscall, License: "GPL", Instructions: insns, Relocations: relocs}
}

// arenaPrologue loads the arena's address (an arena global at offset 0)
// so that the program uses the arena; the relocation is at index 0.
func arenaProlog() []ins { return []ins{ldMapValue(asm.R6, 0)} }
