package vm

import "fmt"

// opcode is a decoded operation: one per combination of instruction,
// operand source and access kind, so a back end dispatches once and never
// decodes. The order of the list below means nothing: the decoder and the
// back ends name ops only through the tables of this file, which the
// constructors fill, so an op can be inserted anywhere.
type opcode uint8

const (
	opInvalid opcode = iota
	opAdd64X
	opAdd64K
	opAdd32X
	opAdd32K
	opSub64X
	opSub64K
	opSub32X
	opSub32K
	opMul64X
	opMul64K
	opMul32X
	opMul32K
	opOr64X
	opOr64K
	opOr32X
	opOr32K
	opAnd64X
	opAnd64K
	opAnd32X
	opAnd32K
	opXor64X
	opXor64K
	opXor32X
	opXor32K
	opLsh64X
	opLsh64K
	opLsh32X
	opLsh32K
	opRsh64X
	opRsh64K
	opRsh32X
	opRsh32K
	opArsh64X
	opArsh64K
	opArsh32X
	opArsh32K
	opNeg64
	opNeg32
	opMov64X
	opMov64K
	opMov32X
	opMov32K
	opMovsx64_8
	opMovsx64_16
	opMovsx64_32
	opMovsx32_8
	opMovsx32_16
	opDiv64X
	opMod64X
	opSdiv64X
	opSmod64X
	opDiv64K
	opMod64K
	opSdiv64K
	opSmod64K
	opDiv32X
	opMod32X
	opSdiv32X
	opSmod32X
	opDiv32K
	opMod32K
	opSdiv32K
	opSmod32K
	opLe16
	opLe32
	opLe64
	opSwap16
	opSwap32
	opSwap64
	opJeq64X
	opJeq64K
	opJeq32X
	opJeq32K
	opJne64X
	opJne64K
	opJne32X
	opJne32K
	opJgt64X
	opJgt64K
	opJgt32X
	opJgt32K
	opJge64X
	opJge64K
	opJge32X
	opJge32K
	opJlt64X
	opJlt64K
	opJlt32X
	opJlt32K
	opJle64X
	opJle64K
	opJle32X
	opJle32K
	opJsgt64X
	opJsgt64K
	opJsgt32X
	opJsgt32K
	opJsge64X
	opJsge64K
	opJsge32X
	opJsge32K
	opJslt64X
	opJslt64K
	opJslt32X
	opJslt32K
	opJsle64X
	opJsle64K
	opJsle32X
	opJsle32K
	opJset64X
	opJset64K
	opJset32X
	opJset32K
	opLdxB
	opLdxH
	opLdxW
	opLdxDW
	opLdxsB
	opLdxsH
	opLdxsW
	opStxB
	opStB
	opStxH
	opStH
	opStxW
	opStW
	opStxDW
	opStDW
	opALdxB
	opALdxH
	opALdxW
	opALdxDW
	opALdxsB
	opALdxsH
	opALdxsW
	opAStxB
	opAStB
	opAStxH
	opAStH
	opAStxW
	opAStW
	opAStxDW
	opAStDW
	opLdImm64
	opCastUser // addr_space_cast(r, 0, 1) with user conversion
	opJa
	opMayGoto
	opCall       // subprogram
	opCallHelper // helper or kfunc through the function table
	opExit
	opAtomic    // other memory
	opAAtomic   // arena
	opAlu64Zext // 64-bit ALU on an arena pointer, result zero-extended
	// Fused pairs (see fuse): a 64-bit register copy and the 64-bit
	// operation with a constant on the copy that follows it, run as one
	// dispatch. The second instruction stays in place for jumps to it.
	opMovLsh64K
	opMovRsh64K
	opMovAnd64K
	opMovAdd64K
	// Kfuncs the interpreter runs inline in their common case (see
	// inlineKfuncs); the function table entry (jt) does the rest.
	opIterNumNext
	opUnknown // decoded but not runnable: a runtime error if reached
	numOps
)

// opForms is one operation in its four forms, in the order of formIndex.
type opForms [4]opcode

// formIndex is the position of a form in opForms: 64-bit register source,
// 64-bit constant, 32-bit register, 32-bit constant.
func formIndex(is64, x bool) int {
	i := 0
	if !x {
		i = 1
	}
	if !is64 {
		i += 2
	}
	return i
}

// opInfo is what the op table knows of an op.
type opInfo struct {
	name string
	// cond marks conditional jumps (may_goto excluded): the ones the
	// static pass may hard-wire.
	cond bool
	// fused marks ops that run two instructions and skip the second.
	fused bool
}

// opTable describes every op. The constructors below fill it; TestOpTable
// checks that every op has a distinct name.
var opTable [numOps]opInfo

// String names the op as the decoder's tests and listings show it.
func (o opcode) String() string {
	if int(o) < len(opTable) && opTable[o].name != "" {
		return opTable[o].name
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// isCondJump reports whether op is a conditional jump (may_goto excluded).
func isCondJump(op opcode) bool { return opTable[op].cond }

func defOp(o opcode, name string) opcode {
	opTable[o].name = name
	return o
}

// defForms names the four forms of an operation name64x, name64k,
// name32x, name32k.
func defForms(name string, f opForms) opForms {
	for i, suffix := range [4]string{"64x", "64k", "32x", "32k"} {
		defOp(f[i], name+suffix)
	}
	return f
}

func defJump(name string, f opForms) opForms {
	defForms(name, f)
	for _, o := range f {
		opTable[o].cond = true
	}
	return f
}

// defSizes names the forms of a memory op by access size: 1, 2, 4 and 8
// bytes in that order (a zero op: the size has no such form).
func defSizes(name string, f [4]opcode) [4]opcode {
	for i, suffix := range [4]string{"b", "h", "w", "dw"} {
		if f[i] != opInvalid {
			defOp(f[i], name+suffix)
		}
	}
	return f
}

// aluOps are the ALU operations by the op field of the instruction
// (code>>4) that have all four forms and no offset.
var aluOps = map[uint8]opForms{
	0x0: defForms("add", opForms{opAdd64X, opAdd64K, opAdd32X, opAdd32K}),
	0x1: defForms("sub", opForms{opSub64X, opSub64K, opSub32X, opSub32K}),
	0x2: defForms("mul", opForms{opMul64X, opMul64K, opMul32X, opMul32K}),
	0x4: defForms("or", opForms{opOr64X, opOr64K, opOr32X, opOr32K}),
	0x5: defForms("and", opForms{opAnd64X, opAnd64K, opAnd32X, opAnd32K}),
	0x6: defForms("lsh", opForms{opLsh64X, opLsh64K, opLsh32X, opLsh32K}),
	0x7: defForms("rsh", opForms{opRsh64X, opRsh64K, opRsh32X, opRsh32K}),
	0xa: defForms("xor", opForms{opXor64X, opXor64K, opXor32X, opXor32K}),
	0xc: defForms("arsh", opForms{opArsh64X, opArsh64K, opArsh32X, opArsh32K}),
}

// movOps are the plain register and constant moves.
var movOps = defForms("mov", opForms{opMov64X, opMov64K, opMov32X, opMov32K})

// divOps are division and modulo by op field and offset (1: signed).
var divOps = map[[2]int16]opForms{
	{0x3, 0}: defForms("div", opForms{opDiv64X, opDiv64K, opDiv32X, opDiv32K}),
	{0x3, 1}: defForms("sdiv", opForms{opSdiv64X, opSdiv64K, opSdiv32X, opSdiv32K}),
	{0x9, 0}: defForms("mod", opForms{opMod64X, opMod64K, opMod32X, opMod32K}),
	{0x9, 1}: defForms("smod", opForms{opSmod64X, opSmod64K, opSmod32X, opSmod32K}),
}

// movsxOps are the sign-extending moves by width class (is64) and offset.
var movsxOps = map[[2]int16]opcode{
	{1, 8}:  defOp(opMovsx64_8, "movsx64_8"),
	{1, 16}: defOp(opMovsx64_16, "movsx64_16"),
	{1, 32}: defOp(opMovsx64_32, "movsx64_32"),
	{0, 8}:  defOp(opMovsx32_8, "movsx32_8"),
	{0, 16}: defOp(opMovsx32_16, "movsx32_16"),
}

// swapOps are the byte-order ops by width: [0] converts to little endian
// (a truncation on this host), [1] swaps.
var swapOps = map[int64][2]opcode{
	16: {defOp(opLe16, "le16"), defOp(opSwap16, "swap16")},
	32: {defOp(opLe32, "le32"), defOp(opSwap32, "swap32")},
	64: {defOp(opLe64, "le64"), defOp(opSwap64, "swap64")},
}

// negOps are negation in 64 and 32 bits.
var negOps = [2]opcode{defOp(opNeg64, "neg64"), defOp(opNeg32, "neg32")}

// jmpOps are the conditional jumps by op field.
var jmpOps = map[uint8]opForms{
	0x1: defJump("jeq", opForms{opJeq64X, opJeq64K, opJeq32X, opJeq32K}),
	0x5: defJump("jne", opForms{opJne64X, opJne64K, opJne32X, opJne32K}),
	0x2: defJump("jgt", opForms{opJgt64X, opJgt64K, opJgt32X, opJgt32K}),
	0x3: defJump("jge", opForms{opJge64X, opJge64K, opJge32X, opJge32K}),
	0xa: defJump("jlt", opForms{opJlt64X, opJlt64K, opJlt32X, opJlt32K}),
	0xb: defJump("jle", opForms{opJle64X, opJle64K, opJle32X, opJle32K}),
	0x6: defJump("jsgt", opForms{opJsgt64X, opJsgt64K, opJsgt32X, opJsgt32K}),
	0x7: defJump("jsge", opForms{opJsge64X, opJsge64K, opJsge32X, opJsge32K}),
	0xc: defJump("jslt", opForms{opJslt64X, opJslt64K, opJslt32X, opJslt32K}),
	0xd: defJump("jsle", opForms{opJsle64X, opJsle64K, opJsle32X, opJsle32K}),
	0x4: defJump("jset", opForms{opJset64X, opJset64K, opJset32X, opJset32K}),
}

// Memory ops by access size, for plain (stack, map, ctx, packet) and arena
// memory.
var (
	ldxOps   = defSizes("ldx", [4]opcode{opLdxB, opLdxH, opLdxW, opLdxDW})
	ldxsOps  = defSizes("ldxs", [4]opcode{opLdxsB, opLdxsH, opLdxsW})
	stOps    = defSizes("st", [4]opcode{opStB, opStH, opStW, opStDW})
	stxOps   = defSizes("stx", [4]opcode{opStxB, opStxH, opStxW, opStxDW})
	aLdxOps  = defSizes("arena.ldx", [4]opcode{opALdxB, opALdxH, opALdxW, opALdxDW})
	aLdxsOps = defSizes("arena.ldxs", [4]opcode{opALdxsB, opALdxsH, opALdxsW})
	aStOps   = defSizes("arena.st", [4]opcode{opAStB, opAStH, opAStW, opAStDW})
	aStxOps  = defSizes("arena.stx", [4]opcode{opAStxB, opAStxH, opAStxW, opAStxDW})
)

// fusedMov maps a 64-bit operation with a constant to its fused form after
// a register copy.
var fusedMov = map[opcode]opcode{
	opLsh64K: defFused(opMovLsh64K, "mov+lsh64k"),
	opRsh64K: defFused(opMovRsh64K, "mov+rsh64k"),
	opAnd64K: defFused(opMovAnd64K, "mov+and64k"),
	opAdd64K: defFused(opMovAdd64K, "mov+add64k"),
}

func defFused(o opcode, name string) opcode {
	opTable[o].fused = true
	return defOp(o, name)
}

// The ops of one form each.
var (
	_ = defOp(opInvalid, "invalid")
	_ = defOp(opLdImm64, "ldimm64")
	_ = defOp(opCastUser, "cast_user")
	_ = defOp(opJa, "ja")
	_ = defOp(opMayGoto, "may_goto")
	_ = defOp(opCall, "call")
	_ = defOp(opCallHelper, "call_helper")
	_ = defOp(opExit, "exit")
	_ = defOp(opAtomic, "atomic")
	_ = defOp(opAAtomic, "arena.atomic")
	_ = defOp(opAlu64Zext, "alu64_zext")
	_ = defOp(opUnknown, "unknown")
)

// inlineKfuncs are the kfuncs with an inline op: calls the interpreter
// does without a Go call when their arguments take the common path (a
// bpf_for loop's iterator on the stack), with the same effects as the
// function, which they fall back to otherwise and in profiled runs.
var inlineKfuncs = map[string]opcode{
	"bpf_iter_num_next": defOp(opIterNumNext, "call_iter_num_next"),
}
