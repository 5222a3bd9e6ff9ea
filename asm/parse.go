package asm

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by errors about text that is not an instruction in
// the verifier log syntax.
var ErrSyntax = errors.New("syntax error")

// ParseError describes a line Parse or Assemble could not read.
type ParseError struct {
	Line int    // 1-based line number for Assemble, 0 for Parse
	Text string // the offending text
	Err  error  // ErrSyntax, or the *DecodeError of an invalid instruction
}

// Error names the line and what is wrong with it.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("asm: line %d: %q: %v", e.Line, e.Text, e.Err)
	}
	return fmt.Sprintf("asm: %q: %v", e.Text, e.Err)
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// Assemble reads a program written in the verifier log syntax, one
// instruction per line, as Formatter.Program writes it. Blank lines and
// lines starting with ";" or "//" are skipped; a leading "N:" slot number,
// a "(xx)" opcode column and anything after a ";" are ignored, so a
// verifier log's instruction lines can be pasted as they are.
func Assemble(text string) (Instructions, error) {
	var insns Instructions
	for n, line := range strings.Split(text, "\n") {
		s := strings.TrimSpace(line)
		if s == "" || strings.HasPrefix(s, ";") || strings.HasPrefix(s, "//") {
			continue
		}
		ins, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.Line = n + 1
			}
			return nil, err
		}
		insns = append(insns, ins)
	}
	return insns, nil
}

var (
	slotPrefix   = regexp.MustCompile(`^\d+:\s*`)
	opcodePrefix = regexp.MustCompile(`^\(([0-9a-f]{2})\)\s*`)
)

// Parse reads one instruction in the verifier log syntax, the inverse of
// Instruction.String: "r0 = *(u32 *)(r1 +4)", "call bpf_map_lookup_elem#1".
// The result is validated. Text the kernel prints the same for several
// encodings reads as the plain one: "r1 = 0x2a" as an ld_imm64 without a
// pseudo source, a kfunc call with module index 0, exit with offset 0. A
// named call is a helper if the name is in the helper table (or is
// "unknown") and a kfunc otherwise.
func Parse(text string) (Instruction, error) {
	s := strings.TrimSpace(text)
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = slotPrefix.ReplaceAllString(s, "")
	want := -1
	if m := opcodePrefix.FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseUint(m[1], 16, 8)
		want = int(v)
		s = s[len(m[0]):]
	}
	ins, ok := parseText(s)
	if !ok {
		return Instruction{}, &ParseError{Text: text, Err: ErrSyntax}
	}
	if want >= 0 && want != int(ins.OpCode) {
		return Instruction{}, &ParseError{Text: text, Err: fmt.Errorf("%w: opcode column says %02x, the text is %02x", ErrSyntax, want, uint8(ins.OpCode))}
	}
	if err := ins.Validate(); err != nil {
		return Instruction{}, &ParseError{Text: text, Err: err}
	}
	return ins, nil
}

const (
	reReg  = `([rw])(\d+)`
	reOff  = `([+-]\d+)`
	reMem  = `\((u8|u16|u32|u64) \*\)\(r(\d+) ` + reOff + `\)`
	reNum  = `(-?\d+)`
	reHex  = `0x([0-9a-f]+)`
	reAOps = `(\+=|-=|\*=|/=|\|=|&=|<<=|>>=|%=|\^=|=|s>>=|s/=|s%=)`
	reJOps = `(==|>|>=|&|!=|s>|s>=|<|<=|s<|s<=)`
)

var (
	reExit       = regexp.MustCompile(`^exit$`)
	reGoto       = regexp.MustCompile(`^(goto|gotol|may_goto) pc` + reOff + `$`)
	reCallPC     = regexp.MustCompile(`^call pc` + reOff + `$`)
	reCallName   = regexp.MustCompile(`^call ([\w-]+)#` + reNum + `$`)
	reJumpReg    = regexp.MustCompile(`^if ` + reReg + ` ` + reJOps + ` ` + reReg + ` goto pc` + reOff + `$`)
	reJumpImm    = regexp.MustCompile(`^if ` + reReg + ` ` + reJOps + ` ` + reHex + ` goto pc` + reOff + `$`)
	reCast       = regexp.MustCompile(`^r(\d+) = addr_space_cast\(r(\d+), (\d+), (\d+)\)$`)
	reSwap       = regexp.MustCompile(`^r(\d+) = (bswap|le|be)(16|32|64) r(\d+)$`)
	reNeg        = regexp.MustCompile(`^` + reReg + ` = -` + reReg + `$`)
	reLoad       = regexp.MustCompile(`^r(\d+) = \*\(([us])(8|16|32|64) \*\)\(r(\d+) ` + reOff + `\)$`)
	reLoadAbs    = regexp.MustCompile(`^r0 = \*\((u8|u16|u32) \*\)skb\[` + reNum + `\]$`)
	reLoadInd    = regexp.MustCompile(`^r0 = \*\((u8|u16|u32) \*\)skb\[r(\d+) \+ ` + reNum + `\]$`)
	reStoreReg   = regexp.MustCompile(`^\*` + reMem + ` = r(\d+)$`)
	reStoreImm   = regexp.MustCompile(`^\*` + reMem + ` = ` + reNum + `$`)
	reLock       = regexp.MustCompile(`^lock \*` + reMem + ` (\+=|\|=|&=|\^=) r(\d+)$`)
	reFetch      = regexp.MustCompile(`^r(\d+) = atomic(64)?_(fetch_add|fetch_or|fetch_and|fetch_xor|xchg)\(` + reMem + `, r(\d+)\)$`)
	reCmpXchg    = regexp.MustCompile(`^r0 = atomic(64)?_cmpxchg\(` + reMem + `, r0, r(\d+)\)$`)
	reLoadAcq    = regexp.MustCompile(`^r(\d+) = load_acquire\(` + reMem + `\)$`)
	reStoreRel   = regexp.MustCompile(`^store_release\(` + reMem + `, r(\d+)\)$`)
	reLoadImm64  = regexp.MustCompile(`^r(\d+) = ` + reHex + `$`)
	reALUReg     = regexp.MustCompile(`^` + reReg + ` ` + reAOps + ` (\((?:s8|s16|s32)\))?` + reReg + `$`)
	reALUImm     = regexp.MustCompile(`^` + reReg + ` ` + reAOps + ` ` + reNum + `$`)
	sizeByType   = map[string]Size{"8": SizeB, "16": SizeH, "32": SizeW, "64": SizeDW}
	aluOpByText  = map[string]ALUOp{}
	jumpOpByText = map[string]JumpOp{}
)

func init() {
	for i, t := range aluOpText {
		if ALUOp(i<<4) < ALUEnd && ALUOp(i<<4) != ALUNeg {
			aluOpByText[t] = ALUOp(i << 4)
		}
	}
	for i, t := range jumpOpText {
		if op := JumpOp(i << 4); op != JumpJA && op != JumpCall && op != JumpExit && op < JumpJCond {
			jumpOpByText[t] = op
		}
	}
}

// num parses a decimal the regular expressions already vetted; a value out
// of range leaves ok false.
func num(s string, bits int) (int64, bool) {
	v, err := strconv.ParseInt(s, 10, bits)
	return v, err == nil
}

func reg(s string) (Register, bool) {
	v, err := strconv.ParseUint(s, 10, 8)
	return Register(v), err == nil && v <= uint64(MaxRegister)
}

// regs parses register numbers; all must be valid.
func regs(ss ...string) ([]Register, bool) {
	out := make([]Register, len(ss))
	for i, s := range ss {
		r, ok := reg(s)
		if !ok {
			return nil, false
		}
		out[i] = r
	}
	return out, true
}

// memSize maps "u32" and friends to the width.
func memSize(t string) Size { return sizeByType[strings.TrimLeft(t, "us")] }

func parseText(s string) (Instruction, bool) {
	var ins Instruction
	if reExit.MatchString(s) {
		return Instruction{OpCode: OpExit}, true
	}
	if m := reGoto.FindStringSubmatch(s); m != nil {
		switch m[1] {
		case "gotol":
			v, ok := num(m[2], 32)
			return Instruction{OpCode: OpGotoL, Constant: v}, ok
		case "goto":
			ins.OpCode = OpJA
		default:
			ins.OpCode = OpMayGoto
		}
		v, ok := num(m[2], 16)
		ins.Offset = int16(v)
		return ins, ok
	}
	if m := reCallPC.FindStringSubmatch(s); m != nil {
		v, ok := num(m[1], 32)
		return Instruction{OpCode: OpCall, Src: PseudoCall, Constant: v}, ok
	}
	if m := reCallName.FindStringSubmatch(s); m != nil {
		v, ok := num(m[2], 32)
		ins = Instruction{OpCode: OpCall, Constant: v}
		if _, helper := HelperID(m[1]); !helper && m[1] != "unknown" {
			ins.Src = PseudoKfuncCall
		}
		return ins, ok
	}
	if m := reJumpReg.FindStringSubmatch(s); m != nil {
		if m[1] != m[4] {
			return ins, false
		}
		r, ok := regs(m[2], m[5])
		v, ok2 := num(m[6], 16)
		if !ok || !ok2 {
			return ins, false
		}
		return Instruction{OpCode: JumpOpCode(jumpClass(m[1]), jumpOpByText[m[3]], SourceX), Dst: r[0], Src: r[1], Offset: int16(v)}, true
	}
	if m := reJumpImm.FindStringSubmatch(s); m != nil {
		r, ok := reg(m[2])
		imm, err := strconv.ParseUint(m[4], 16, 32)
		v, ok2 := num(m[5], 16)
		if !ok || err != nil || !ok2 {
			return ins, false
		}
		return Instruction{OpCode: JumpOpCode(jumpClass(m[1]), jumpOpByText[m[3]], SourceK), Dst: r, Offset: int16(v), Constant: int64(int32(uint32(imm)))}, true
	}
	if m := reCast.FindStringSubmatch(s); m != nil {
		r, ok := regs(m[1], m[2])
		to, ok2 := num(m[3], 16)
		from, ok3 := num(m[4], 16)
		if !ok || !ok2 || !ok3 || to < 0 || from < 0 {
			return ins, false
		}
		return Instruction{OpCode: OpMov64Reg, Dst: r[0], Src: r[1], Offset: AddrSpaceCastOffset, Constant: int64(int32(uint32(to)<<16 | uint32(from)))}, true
	}
	if m := reSwap.FindStringSubmatch(s); m != nil {
		r, ok := regs(m[1], m[4])
		if !ok || r[0] != r[1] {
			return ins, false
		}
		width, _ := num(m[3], 8)
		op := ALUOpCode(ClassALU64, ALUEnd, ToLE)
		switch m[2] {
		case "le":
			op = ALUOpCode(ClassALU, ALUEnd, ToLE)
		case "be":
			op = ALUOpCode(ClassALU, ALUEnd, ToBE)
		}
		return Instruction{OpCode: op, Dst: r[0], Constant: width}, true
	}
	if m := reNeg.FindStringSubmatch(s); m != nil {
		r, ok := regs(m[2], m[4])
		if !ok || m[1] != m[3] || r[0] != r[1] {
			return ins, false
		}
		return Instruction{OpCode: ALUOpCode(aluClass(m[1]), ALUNeg, SourceK), Dst: r[0]}, true
	}
	if m := reLoad.FindStringSubmatch(s); m != nil {
		r, ok := regs(m[1], m[4])
		v, ok2 := num(m[5], 16)
		if !ok || !ok2 {
			return ins, false
		}
		mode := ModeMEM
		if m[2] == "s" {
			mode = ModeMEMSX
		}
		return Instruction{OpCode: MemOpCode(ClassLDX, mode, sizeByType[m[3]]), Dst: r[0], Src: r[1], Offset: int16(v)}, true
	}
	if m := reLoadAbs.FindStringSubmatch(s); m != nil {
		v, ok := num(m[2], 32)
		return Instruction{OpCode: MemOpCode(ClassLD, ModeABS, memSize(m[1])), Constant: v}, ok
	}
	if m := reLoadInd.FindStringSubmatch(s); m != nil {
		r, ok := reg(m[2])
		v, ok2 := num(m[3], 32)
		return Instruction{OpCode: MemOpCode(ClassLD, ModeIND, memSize(m[1])), Src: r, Constant: v}, ok && ok2
	}
	if m := reStoreReg.FindStringSubmatch(s); m != nil {
		return memInstruction(MemOpCode(ClassSTX, ModeMEM, memSize(m[1])), m[2], m[3], m[4], 0)
	}
	if m := reStoreImm.FindStringSubmatch(s); m != nil {
		v, ok := num(m[4], 32)
		if !ok {
			return ins, false
		}
		return memInstruction(MemOpCode(ClassST, ModeMEM, memSize(m[1])), m[2], m[3], "0", v)
	}
	if m := reLock.FindStringSubmatch(s); m != nil {
		return memInstruction(MemOpCode(ClassSTX, ModeATOMIC, memSize(m[1])), m[2], m[3], m[5], int64(aluOpByText[m[4]]))
	}
	if m := reFetch.FindStringSubmatch(s); m != nil {
		if m[1] != m[7] || (m[2] == "64") != (m[4] == "u64") {
			return ins, false
		}
		op := AtomicXchg
		if m[3] != "xchg" {
			op = map[string]AtomicOp{"fetch_add": AtomicAdd, "fetch_or": AtomicOr, "fetch_and": AtomicAnd, "fetch_xor": AtomicXor}[m[3]] | AtomicFetch
		}
		return memInstruction(MemOpCode(ClassSTX, ModeATOMIC, memSize(m[4])), m[5], m[6], m[7], int64(op))
	}
	if m := reCmpXchg.FindStringSubmatch(s); m != nil {
		if (m[1] == "64") != (m[2] == "u64") {
			return ins, false
		}
		return memInstruction(MemOpCode(ClassSTX, ModeATOMIC, memSize(m[2])), m[3], m[4], m[5], int64(AtomicCmpXchg))
	}
	if m := reLoadAcq.FindStringSubmatch(s); m != nil {
		// The memory operand is the src register here, the value dst.
		ins, ok := memInstruction(MemOpCode(ClassSTX, ModeATOMIC, memSize(m[2])), m[3], m[4], m[1], int64(AtomicLoadAcquire))
		ins.Dst, ins.Src = ins.Src, ins.Dst
		return ins, ok
	}
	if m := reStoreRel.FindStringSubmatch(s); m != nil {
		return memInstruction(MemOpCode(ClassSTX, ModeATOMIC, memSize(m[1])), m[2], m[3], m[4], int64(AtomicStoreRelease))
	}
	if m := reLoadImm64.FindStringSubmatch(s); m != nil {
		r, ok := reg(m[1])
		v, err := strconv.ParseUint(m[2], 16, 64)
		return Instruction{OpCode: OpLoadImm64, Dst: r, Constant: int64(v)}, ok && err == nil
	}
	if m := reALUReg.FindStringSubmatch(s); m != nil {
		return parseALUReg(m)
	}
	if m := reALUImm.FindStringSubmatch(s); m != nil {
		r, ok := reg(m[2])
		v, ok2 := num(m[4], 32)
		op, signed := aluOp(m[3])
		if !ok || !ok2 {
			return ins, false
		}
		ins = Instruction{OpCode: ALUOpCode(aluClass(m[1]), op, SourceK), Dst: r, Constant: v}
		if signed {
			ins.Offset = SignedDivModOffset
		}
		return ins, true
	}
	return ins, false
}

func parseALUReg(m []string) (Instruction, bool) {
	// m: 1 dst kind, 2 dst, 3 op, 4 "(sN)" or "", 5 src kind, 6 src
	if m[1] != m[5] {
		return Instruction{}, false
	}
	r, ok := regs(m[2], m[6])
	if !ok {
		return Instruction{}, false
	}
	op, signed := aluOp(m[3])
	ins := Instruction{OpCode: ALUOpCode(aluClass(m[1]), op, SourceX), Dst: r[0], Src: r[1]}
	switch {
	case signed:
		ins.Offset = SignedDivModOffset
	case m[4] != "":
		if op != ALUMov {
			return Instruction{}, false
		}
		bits, _ := num(strings.Trim(m[4], "(s)"), 16)
		ins.Offset = int16(bits)
	}
	return ins, true
}

// memInstruction builds a load/store-class instruction from the register
// and offset texts of a memory operand.
func memInstruction(op OpCode, dst, off, src string, imm int64) (Instruction, bool) {
	r, ok := regs(dst, src)
	v, ok2 := num(off, 16)
	if !ok || !ok2 {
		return Instruction{}, false
	}
	return Instruction{OpCode: op, Dst: r[0], Src: r[1], Offset: int16(v), Constant: imm}, true
}

func aluOp(text string) (op ALUOp, signed bool) {
	if text == "s/=" || text == "s%=" {
		return aluOpByText[text[1:]], true
	}
	return aluOpByText[text], false
}

func aluClass(kind string) Class {
	if kind == "w" {
		return ClassALU
	}
	return ClassALU64
}

func jumpClass(kind string) Class {
	if kind == "w" {
		return ClassJMP32
	}
	return ClassJMP
}
