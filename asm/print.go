package asm

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Formatter prints instructions in the syntax of the Linux verifier log.
// Its callbacks let a caller name what the bare encoding only numbers; a
// nil callback, or one that returns "", gives the kernel's own text. The
// zero Formatter is ready to use.
type Formatter struct {
	// Helper names a helper id missing from the built-in table (HelperName),
	// which always wins, as in the kernel. Without a name the call prints
	// as "call unknown#<id>".
	Helper func(id int32) string
	// Kfunc names the kernel function a call with src 2 targets (BTF id in
	// Constant, module fd_array index in Offset). Without a name the call
	// prints as "call kernel-function#<id>".
	Kfunc func(ins Instruction) string
	// Imm64 describes what an ld_imm64 loads, for example "map[counters]"
	// for a map reference. Without it the constant prints in hex.
	Imm64 func(ins Instruction) string
	// OpCode prefixes each instruction with its opcode in parentheses,
	// "(bf) r1 = r2", as the verifier log does.
	OpCode bool
}

// String formats ins in the verifier log syntax with no names resolved
// except helpers, for example "r0 = *(u32 *)(r1 +4)".
func (ins Instruction) String() string {
	var f Formatter
	return f.Format(ins)
}

// Format returns the text of one instruction.
func (f *Formatter) Format(ins Instruction) string {
	var b strings.Builder
	f.format(&b, ins)
	text := b.String()
	// The kernel logs the opcode in front of every instruction it can
	// spell, but not in front of its BUG_ markers for those it cannot.
	if f != nil && f.OpCode && !strings.HasPrefix(text, "BUG_") {
		return fmt.Sprintf("(%02x) %s", uint8(ins.OpCode), text)
	}
	return text
}

// Program writes insns one per line, each prefixed with its slot number
// and opcode like the verifier log: "3: (85) call bpf_map_lookup_elem#1".
func (f *Formatter) Program(w io.Writer, insns Instructions) error {
	g := Formatter{OpCode: true}
	if f != nil {
		g = *f
		g.OpCode = true
	}
	slot := 0
	for _, ins := range insns {
		if _, err := fmt.Fprintf(w, "%d: %s\n", slot, g.Format(ins)); err != nil {
			return err
		}
		slot += ins.Slots()
	}
	return nil
}

// The operator texts by operation >> 4. The kernel's tables have no entry
// for the two highest operations and its printf shows the missing string
// as "(null)"; invalid instructions print the same way here.
var aluOpText = [16]string{
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", "(null)", "(null)",
}

var jumpOpText = [16]string{
	"jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", "(null)", "(null)",
}

// loadStoreType is the C type the kernel prints for each Size value >> 3.
var loadStoreType = [4]string{"u32", "u16", "u8", "u64"}
var loadSXType = [4]string{"s32", "s16", "s8", "s64"}

func sizeType(op OpCode) string { return loadStoreType[op.Size()>>3] }

// signed formats n like C's "%+d".
func signed(n int64) string {
	if n >= 0 {
		return "+" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

func (f *Formatter) format(b *strings.Builder, ins Instruction) {
	switch ins.Class() {
	case ClassALU, ClassALU64:
		f.formatALU(b, ins)
	case ClassSTX:
		formatSTX(b, ins)
	case ClassST:
		if ins.Mode() == ModeATOMIC {
			// The kernel's internal speculation barrier uses this mode.
			b.WriteString("nospec")
			return
		}
		if ins.Mode() != ModeMEM {
			fmt.Fprintf(b, "BUG_st_%02x", uint8(ins.OpCode))
			return
		}
		fmt.Fprintf(b, "*(%s *)(r%d %s) = %d", sizeType(ins.OpCode), ins.Dst, signed(int64(ins.Offset)), int32(ins.Constant))
	case ClassLDX:
		var typ string
		switch ins.Mode() {
		case ModeMEM:
			typ = sizeType(ins.OpCode)
		case ModeMEMSX:
			typ = loadSXType[ins.OpCode.Size()>>3]
		default:
			fmt.Fprintf(b, "BUG_ldx_%02x", uint8(ins.OpCode))
			return
		}
		fmt.Fprintf(b, "r%d = *(%s *)(r%d %s)", ins.Dst, typ, ins.Src, signed(int64(ins.Offset)))
	case ClassLD:
		f.formatLD(b, ins)
	default:
		f.formatJump(b, ins)
	}
}

func (f *Formatter) formatALU(b *strings.Builder, ins Instruction) {
	reg := byte('r')
	if ins.Class() == ClassALU {
		reg = 'w'
	}
	op := ins.ALUOp()
	switch {
	case op == ALUEnd:
		if ins.Class() == ClassALU64 {
			fmt.Fprintf(b, "r%d = bswap%d r%d", ins.Dst, int32(ins.Constant), ins.Dst)
			return
		}
		order := "le"
		if ins.OpCode.Source() == ToBE {
			order = "be"
		}
		fmt.Fprintf(b, "r%d = %s%d r%d", ins.Dst, order, int32(ins.Constant), ins.Dst)
	case op == ALUNeg:
		fmt.Fprintf(b, "%c%d = -%c%d", reg, ins.Dst, reg, ins.Dst)
	case ins.IsAddrSpaceCast():
		to, from := ins.CastAddressSpaces()
		fmt.Fprintf(b, "r%d = addr_space_cast(r%d, %d, %d)", ins.Dst, ins.Src, to, from)
	case ins.OpCode == OpMov64Reg && ins.Offset == -1:
		// Kernel-internal per-CPU address load; never valid in a program
		// but logged when one carries it.
		fmt.Fprintf(b, "r%d = &(void __percpu *)(r%d)", ins.Dst, ins.Src)
	default:
		text := aluOpText[op>>4]
		if (op == ALUDiv || op == ALUMod) && ins.Offset == SignedDivModOffset {
			text = "s" + text
		}
		if ins.OpCode.Source() == SourceK {
			fmt.Fprintf(b, "%c%d %s %d", reg, ins.Dst, text, int32(ins.Constant))
			return
		}
		ext := ""
		if op == ALUMov {
			switch ins.Offset {
			case 8, 16, 32:
				ext = fmt.Sprintf("(s%d)", ins.Offset)
			}
		}
		fmt.Fprintf(b, "%c%d %s %s%c%d", reg, ins.Dst, text, ext, reg, ins.Src)
	}
}

func formatSTX(b *strings.Builder, ins Instruction) {
	typ := sizeType(ins.OpCode)
	off := signed(int64(ins.Offset))
	if ins.Mode() == ModeMEM {
		fmt.Fprintf(b, "*(%s *)(r%d %s) = r%d", typ, ins.Dst, off, ins.Src)
		return
	}
	if ins.Mode() != ModeATOMIC {
		fmt.Fprintf(b, "BUG_%02x", uint8(ins.OpCode))
		return
	}
	width := ""
	if ins.OpCode.Size() == SizeDW {
		width = "64"
	}
	switch op := ins.AtomicOp(); op {
	case AtomicAdd, AtomicOr, AtomicAnd, AtomicXor:
		fmt.Fprintf(b, "lock *(%s *)(r%d %s) %s r%d", typ, ins.Dst, off, aluOpText[op>>4], ins.Src)
	case AtomicAdd | AtomicFetch, AtomicOr | AtomicFetch, AtomicAnd | AtomicFetch, AtomicXor | AtomicFetch:
		fmt.Fprintf(b, "r%d = atomic%s_%s((%s *)(r%d %s), r%d)", ins.Src, width, op, typ, ins.Dst, off, ins.Src)
	case AtomicCmpXchg:
		fmt.Fprintf(b, "r0 = atomic%s_cmpxchg((%s *)(r%d %s), r0, r%d)", width, typ, ins.Dst, off, ins.Src)
	case AtomicXchg:
		fmt.Fprintf(b, "r%d = atomic%s_xchg((%s *)(r%d %s), r%d)", ins.Src, width, typ, ins.Dst, off, ins.Src)
	case AtomicLoadAcquire:
		fmt.Fprintf(b, "r%d = load_acquire((%s *)(r%d %s))", ins.Dst, typ, ins.Src, off)
	case AtomicStoreRelease:
		fmt.Fprintf(b, "store_release((%s *)(r%d %s), r%d)", typ, ins.Dst, off, ins.Src)
	default:
		fmt.Fprintf(b, "BUG_%02x", uint8(ins.OpCode))
	}
}

func (f *Formatter) formatLD(b *strings.Builder, ins Instruction) {
	switch {
	case ins.Mode() == ModeABS:
		fmt.Fprintf(b, "r0 = *(%s *)skb[%d]", sizeType(ins.OpCode), int32(ins.Constant))
	case ins.Mode() == ModeIND:
		fmt.Fprintf(b, "r0 = *(%s *)skb[r%d + %d]", sizeType(ins.OpCode), ins.Src, int32(ins.Constant))
	case ins.IsLoadImm64():
		text := ""
		if f != nil && f.Imm64 != nil {
			text = f.Imm64(ins)
		}
		if text == "" {
			text = "0x" + strconv.FormatUint(uint64(ins.Constant), 16)
		}
		fmt.Fprintf(b, "r%d = %s", ins.Dst, text)
	default:
		fmt.Fprintf(b, "BUG_ld_%02x", uint8(ins.OpCode))
	}
}

func (f *Formatter) formatJump(b *strings.Builder, ins Instruction) {
	op := ins.JumpOp()
	switch {
	case op == JumpCall:
		f.formatCall(b, ins)
	case ins.OpCode == OpJA:
		fmt.Fprintf(b, "goto pc%s", signed(int64(ins.Offset)))
	case ins.OpCode == OpMayGoto && ins.Src == MayGoto:
		fmt.Fprintf(b, "may_goto pc%s", signed(int64(ins.Offset)))
	case ins.OpCode == OpGotoL:
		fmt.Fprintf(b, "gotol pc%s", signed(int64(int32(ins.Constant))))
	case ins.OpCode == OpExit:
		b.WriteString("exit")
	default:
		// Every other shape, invalid ones included, prints as a
		// comparison, as the kernel does.
		reg := byte('r')
		if ins.Class() == ClassJMP32 {
			reg = 'w'
		}
		if ins.OpCode.Source() == SourceX {
			fmt.Fprintf(b, "if %c%d %s %c%d goto pc%s", reg, ins.Dst, jumpOpText[op>>4], reg, ins.Src, signed(int64(ins.Offset)))
			return
		}
		fmt.Fprintf(b, "if %c%d %s 0x%x goto pc%s", reg, ins.Dst, jumpOpText[op>>4], uint32(ins.Constant), signed(int64(ins.Offset)))
	}
}

func (f *Formatter) formatCall(b *strings.Builder, ins Instruction) {
	imm := int32(ins.Constant)
	if ins.Src == PseudoCall {
		fmt.Fprintf(b, "call pc%s", signed(int64(imm)))
		return
	}
	name := ""
	switch ins.Src {
	case PseudoHelperCall:
		name = HelperName(imm)
		if name == "" && f != nil && f.Helper != nil {
			name = f.Helper(imm)
		}
	case PseudoKfuncCall:
		if f != nil && f.Kfunc != nil {
			name = f.Kfunc(ins)
		}
		if name == "" {
			name = "kernel-function"
		}
	}
	if name == "" {
		name = "unknown"
	}
	fmt.Fprintf(b, "call %s#%d", name, imm)
}
