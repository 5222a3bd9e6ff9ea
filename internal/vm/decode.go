package vm

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/vm/verifier"
	"github.com/bpfarena/bpfarena/object"
)

// insn is one decoded instruction: the operation with its operands
// resolved so the interpreter does no decoding. For loads imm holds the
// sign-extended offset; for jumps and calls jt is the target index; for
// helper calls jt indexes program.funcs.
type insn struct {
	op  opcode
	dst uint8
	src uint8
	off int16
	jt  int32
	imm uint64
}

// helperFunc is a helper or kfunc. It gets r1-r5 and the current frame
// depth (for callbacks) and returns r0; an error stops the run.
type helperFunc func(m *machine, a1, a2, a3, a4, a5 uint64, depth int) (uint64, error)

// program is a loaded program.
type program struct {
	// nonSleepable marks kfunc calls the verifier found outside a
	// sleepable context.
	nonSleepable []bool

	c     *Collection
	spec  *object.ProgramSpec
	name  string
	raw   asm.Instructions
	code  []insn
	slots []int // slot of each instruction index
	funcs []helperFunc
	// ex is the back end that runs code.
	ex    executor
	lines []object.Line
	log   string

	// exitPC is an exit instruction after the program's end, where a
	// frame goes once a tail call has run a program in its place.
	exitPC int
}

// slotOf returns the slot of instruction index i.
func (p *program) slotOf(i int) int {
	if i >= 0 && i < len(p.slots) {
		return p.slots[i]
	}
	return -1
}

// lineOf returns "file.c:31" for instruction index i, from BTF line info.
func (p *program) lineOf(i int) string {
	n := sort.Search(len(p.lines), func(k int) bool { return p.lines[k].Index > i })
	if n == 0 {
		return ""
	}
	l := p.lines[n-1]
	if l.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", filepath.Base(l.File), l.Line)
}

// Handles: values a program holds for a map or a callback. They look like
// kernel addresses so that no program can mistake them for memory it may
// touch: every region check rejects them.
const (
	mapHandleBase  = 0xffff_c900_0000_0000
	funcHandleBase = 0xffff_ffff_a000_0000
	handleStride   = 1 << 12
)

// Instruction fields.
const (
	classMask = 0x07
	opMask    = 0xf0
	srcX      = 0x08
	modeMask  = 0xe0
	sizeMask  = 0x18
	modeMem   = 0x60
	modeMemSX = 0x80
	modeAtom  = 0xc0
	sizeW     = 0x00
	sizeH     = 0x08
	sizeB     = 0x10
	sizeDW    = 0x18
)

var sizeBytes = [4]uint64{4, 2, 1, 8}

// decodeError is a program the vm cannot run.
type decodeError struct {
	insn int
	msg  string
}

func (e *decodeError) Error() string { return fmt.Sprintf("insn %d: %s", e.insn, e.msg) }

// compile decodes prog into the interpreter's form.
func (c *Collection) compile(ps *object.ProgramSpec, res *verifier.Result) (*program, error) {
	p := &program{c: c, spec: ps, name: ps.Name, raw: ps.Instructions, lines: ps.Lines, ex: defaultExecutor}
	n := len(ps.Instructions)
	p.slots = make([]int, n+1)
	slot := 0
	for i, ins := range ps.Instructions {
		p.slots[i] = slot
		slot += ins.Size() / asm.InstructionSize
	}
	p.slots[n] = slot
	idxOfSlot := make([]int32, slot+1)
	for i := range idxOfSlot {
		idxOfSlot[i] = -1
	}
	for i := 0; i <= n; i++ {
		idxOfSlot[p.slots[i]] = int32(i)
	}
	target := func(i int, rel int64) (int32, error) {
		t := int64(p.slots[i]) + int64(ps.Instructions[i].Size()/asm.InstructionSize) + rel
		if t < 0 || t >= int64(slot) || idxOfSlot[t] < 0 {
			return 0, &decodeError{p.slots[i], fmt.Sprintf("jump out of range to slot %d", t)}
		}
		return idxOfSlot[t], nil
	}
	if res != nil {
		p.nonSleepable = res.NonSleepable
	}
	// One more, never run: an instruction pointer one past the exit
	// stays inside the array.
	p.code = make([]insn, n+3)
	// The sentinel after the last instruction stops a program that
	// runs off its end.
	p.code[n] = insn{op: opUnknown}
	p.code[n+1] = insn{op: opExit}
	p.exitPC = n + 1
	live, _ := any(res).(liveEdges)
	for i, ins := range ps.Instructions {
		var access verifier.Access
		if res != nil && i < len(res.Access) {
			access = res.Access[i]
		}
		in, err := c.decodeOne(p, i, ins, access, target)
		if err != nil {
			return nil, err
		}
		if ins.OpCode&classMask == 0x07 && res.ArenaALU(i) {
			in = c.arenaALUInsn(p, i, ins, in, target)
		}
		if live != nil && isCondJump(in.op) {
			in = hardWire(live, i, in)
		}
		p.code[i] = in
	}
	fuse(p.code[:n])
	return p, nil
}

// fuse turns "rD = rS; rD op= K" into one instruction that runs both and
// skips the second, halving the dispatches of the most common pair clang
// emits (shifts and masks of a copy, stack addresses from r10). The second
// instruction is left as it is: a jump may land on it. Neither half can
// fail, so errors never need the second one's position, and the budget,
// which counts the distance between jumps, still counts both.
func fuse(code []insn) {
	for i := 0; i+1 < len(code); i++ {
		a, b := code[i], code[i+1]
		f, ok := fusedMov[b.op]
		if a.op != opMov64X || !ok || b.dst != a.dst {
			continue
		}
		code[i] = insn{op: f, dst: a.dst, src: a.src, imm: b.imm}
	}
}

func (c *Collection) decodeOne(p *program, i int, ins asm.Instruction, access verifier.Access,
	target func(int, int64) (int32, error)) (insn, error) {
	code := uint8(ins.OpCode)
	in := insn{dst: uint8(ins.Dst), src: uint8(ins.Src), off: ins.Offset}
	bad := func(format string, args ...any) (insn, error) {
		return insn{}, &decodeError{p.slots[i], fmt.Sprintf(format, args...)}
	}
	if ins.Dst > 10 || ins.Src > 10 {
		return bad("invalid register")
	}
	class := code & classMask
	switch class {
	case 0x04, 0x07: // ALU, ALU64
		is64 := class == 0x07
		x := code&srcX != 0
		op := code >> 4
		if x {
			in.imm = 0
		} else if is64 {
			in.imm = uint64(int64(int32(ins.Constant)))
		} else {
			in.imm = uint64(uint32(ins.Constant))
		}
		form := formIndex(is64, x)
		switch op {
		case 0x0, 0x1, 0x2, 0x4, 0x5, 0xa, 0x6, 0x7, 0xc:
			if ins.Offset != 0 {
				return bad("reserved offset in ALU")
			}
			in.op = aluOps[op][form]
		case 0x3, 0x9: // div, mod; off 1 is signed
			f, ok := divOps[[2]int16{int16(op), ins.Offset}]
			if !ok {
				return bad("invalid offset in div/mod")
			}
			in.op = f[form]
		case 0x8:
			in.op = negOps[0]
			if !is64 {
				in.op = negOps[1]
			}
		case 0xb: // mov, movsx, addr_space_cast
			switch {
			case ins.Offset == 0:
				in.op = movOps[form]
			case is64 && x && ins.Offset == asm.AddrSpaceCastOffset:
				switch ins.Constant {
				case asm.CastToArena:
					// The arena view of a pointer is its low 32 bits.
					in.op = opMov32X
				case asm.CastToUser:
					in.op = opCastUser
					if c.arena != nil && c.arena.flags&object.FlagNoUserConv != 0 {
						in.op = opMov32X
					}
				default:
					return bad("addr_space_cast insn can only convert between address space 1 and 0")
				}
			case x && movsxOps[[2]int16{int16(b2u(is64)), ins.Offset}] != opInvalid:
				in.op = movsxOps[[2]int16{int16(b2u(is64)), ins.Offset}]
			default:
				return bad("invalid mov offset %d", ins.Offset)
			}
		case 0xd: // byte swaps
			width := ins.Constant
			if width != 16 && width != 32 && width != 64 {
				return bad("invalid byte swap width %d", width)
			}
			swap := is64 || x // bswap, or to big endian on a little-endian host
			in.op = swapOps[int64(width)][b2u(swap)]
		default:
			return bad("invalid ALU op %#x", code)
		}
		if in.dst == 10 {
			return bad("frame pointer is read only")
		}
	case 0x05, 0x06: // JMP, JMP32
		op := code >> 4
		switch {
		case op == 0x0: // ja, gotol
			rel := int64(ins.Offset)
			if class == 0x06 {
				rel = int64(int32(ins.Constant))
			}
			t, err := target(i, rel)
			if err != nil {
				return insn{}, err
			}
			in.op, in.jt = opJa, t
		case op == 0x8 && class == 0x05: // call
			return c.decodeCall(p, i, ins, target)
		case op == 0x9 && class == 0x05:
			in.op = opExit
		case op == 0xe && class == 0x05: // may_goto
			t, err := target(i, int64(ins.Offset))
			if err != nil {
				return insn{}, err
			}
			in.op, in.jt = opMayGoto, t
		default:
			f, ok := jmpOps[op]
			if !ok {
				return bad("invalid jump op %#x", code)
			}
			t, err := target(i, int64(ins.Offset))
			if err != nil {
				return insn{}, err
			}
			x := code&srcX != 0
			in.op, in.jt = f[formIndex(class == 0x05, x)], t
			if !x {
				if class == 0x05 {
					in.imm = uint64(int64(int32(ins.Constant)))
				} else {
					in.imm = uint64(uint32(ins.Constant))
				}
			}
		}
	case 0x00: // LD
		if code != 0x18 {
			return bad("legacy packet loads are not supported")
		}
		v, err := c.ldImm64(p, i, ins)
		if err != nil {
			return insn{}, err
		}
		in.op, in.imm = opLdImm64, v
	case 0x01, 0x02, 0x03: // LDX, ST, STX
		mode := code & modeMask
		size := sizeBytes[(code&sizeMask)>>3]
		sizeIdx := map[uint64]int{1: 0, 2: 1, 4: 2, 8: 3}[size]
		arenaAccess := access == verifier.AccessArena
		if arenaAccess && c.arena == nil {
			return bad("arena access in a collection without an arena")
		}
		switch {
		case class == 0x01 && mode == modeMem:
			in.imm = uint64(int64(ins.Offset))
			in.op = pick(arenaAccess, ldxOps, aLdxOps)[sizeIdx]
		case class == 0x01 && mode == modeMemSX && size < 8:
			in.imm = uint64(int64(ins.Offset))
			in.op = pick(arenaAccess, ldxsOps, aLdxsOps)[sizeIdx]
		case class == 0x02 && mode == modeMem:
			in.imm = uint64(int64(int32(ins.Constant)))
			in.op = pick(arenaAccess, stOps, aStOps)[sizeIdx]
		case class == 0x03 && mode == modeMem:
			in.op = pick(arenaAccess, stxOps, aStxOps)[sizeIdx]
		case class == 0x03 && mode == modeAtom:
			op := uint64(uint32(ins.Constant))
			switch op {
			case atomicAdd, atomicOr, atomicAnd, atomicXor,
				atomicAdd | atomicFetch, atomicOr | atomicFetch, atomicAnd | atomicFetch, atomicXor | atomicFetch,
				atomicXchg, atomicCmpXchg:
				if size < 4 {
					return bad("invalid atomic size")
				}
			case atomicLoadAcq, atomicStoreRel:
			default:
				return bad("invalid atomic op %#x", op)
			}
			in.imm = op | size<<atomicSizeShift
			in.op = opAtomic
			if arenaAccess {
				in.op = opAAtomic
			}
		default:
			return bad("invalid memory op %#x", code)
		}
		if in.op == opInvalid {
			return bad("invalid memory op %#x", code)
		}
		if (class == 0x01 || (class == 0x03 && mode == modeAtom && uint32(ins.Constant) == atomicLoadAcq)) && in.dst == 10 {
			return bad("frame pointer is read only")
		}
	}
	return in, nil
}

// arenaALUInsn decodes a 64-bit ALU instruction on an arena pointer the
// way the kernel runs it: as the same operation in 32 bits (the verifier
// rewrites the class; division, shifts and the rest then act on the low
// words). Casts keep their meaning; an operation with no 32-bit form is
// done in 64 bits and zero-extended.
func (c *Collection) arenaALUInsn(p *program, i int, ins asm.Instruction, in insn, target func(int, int64) (int32, error)) insn {
	op := uint8(ins.OpCode) & opMask
	if ins.Offset == asm.AddrSpaceCastOffset && op == 0xb0 || op == 0xd0 {
		return in
	}
	narrow := ins
	narrow.OpCode = ins.OpCode&^classMask | 0x04
	if n, err := c.decodeOne(p, i, narrow, verifier.AccessNone, target); err == nil {
		return n
	}
	return insn{op: opAlu64Zext, dst: in.dst, src: in.src, off: ins.Offset, jt: int32(ins.OpCode), imm: uint64(int64(int32(ins.Constant)))}
}

// liveEdges is what the static pass may tell about conditional jumps:
// which of the two successors it found reachable. The kernel hard-wires a
// jump with a dead side (into an unconditional jump or a no-op), and that
// is visible when the program's registers break the pass's assumptions,
// as after an arena atomic that faulted and left its fetch register as it
// was.
type liveEdges interface {
	LiveEdges(i int) (next, taken bool)
}

// hardWire rewrites a conditional jump with a dead side.
func hardWire(live liveEdges, i int, in insn) insn {
	fall, taken := live.LiveEdges(i)
	switch {
	case fall && !taken:
		return insn{op: opJa, jt: int32(i + 1)}
	case taken && !fall:
		return insn{op: opJa, jt: in.jt}
	}
	return in
}

// alu64 computes a 64-bit ALU instruction given by its raw opcode; it is
// the slow path for the rare instructions that need a zero-extension.
func alu64(code uint8, off int16, dst, src uint64) uint64 {
	switch code >> 4 {
	case 0x0:
		return dst + src
	case 0x1:
		return dst - src
	case 0x2:
		return dst * src
	case 0x3:
		if src == 0 {
			return 0
		}
		if off == 1 {
			return uint64(int64(dst) / int64(src))
		}
		return dst / src
	case 0x4:
		return dst | src
	case 0x5:
		return dst & src
	case 0x6:
		return dst << (src & 63)
	case 0x7:
		return dst >> (src & 63)
	case 0x8:
		return -dst
	case 0x9:
		if src == 0 {
			return dst
		}
		if off == 1 {
			return uint64(int64(dst) % int64(src))
		}
		return dst % src
	case 0xa:
		return dst ^ src
	case 0xb:
		switch off {
		case 8:
			return uint64(int64(int8(src)))
		case 16:
			return uint64(int64(int16(src)))
		case 32:
			return uint64(int64(int32(src)))
		}
		return src
	case 0xc:
		return uint64(int64(dst) >> (src & 63))
	}
	return dst
}

// pick chooses the arena forms of a memory op for an arena access.
func pick(arena bool, other, ar [4]opcode) [4]opcode {
	if arena {
		return ar
	}
	return other
}

// ldImm64 resolves the value an ld_imm64 loads.
func (c *Collection) ldImm64(p *program, i int, ins asm.Instruction) (uint64, error) {
	rel, hasRel := p.spec.Relocations[i]
	bad := func(format string, args ...any) (uint64, error) {
		return 0, &decodeError{p.slots[i], fmt.Sprintf(format, args...)}
	}
	switch ins.Src {
	case 0:
		return uint64(ins.Constant), nil
	case asm.PseudoFunc:
		t, err := func() (int32, error) {
			rel := int64(int32(ins.Constant))
			s := int64(p.slots[i]) + 1 + rel
			for k, sl := range p.slots[:len(p.slots)-1] {
				if int64(sl) == s {
					return int32(k), nil
				}
			}
			return 0, fmt.Errorf("callback out of range")
		}()
		if err != nil {
			return bad("%v", err)
		}
		return funcHandleBase + uint64(t)*handleStride, nil
	case asm.PseudoBTFID:
		// Kernel variables (__ksym) do not exist here.
		return 0, nil
	}
	if !hasRel {
		return bad("ld_imm64 with pseudo source %d has no relocation", ins.Src)
	}
	switch rel.Kind {
	case object.RelocMap:
		h, ok := c.handleOf(rel.Map)
		if !ok {
			return bad("map %s is not loaded", mapName(rel.Map))
		}
		return h, nil
	case object.RelocMapValue, object.RelocKconfig:
		if rel.Map == nil {
			return 0, nil
		}
		if rel.Kind == object.RelocKconfig && rel.Offset == 0 && rel.Extern != nil {
			rel.Offset = rel.Extern.Offset
		}
		if rel.Map.IsArena() {
			if c.arena == nil {
				return bad("arena is not loaded")
			}
			return c.arena.start + uint64(rel.Offset), nil
		}
		m, ok := c.mapOf(rel.Map)
		if !ok {
			return bad("map %s is not loaded", mapName(rel.Map))
		}
		if uint64(rel.Offset) > m.slot*uint64(m.max) {
			return bad("direct value offset of %d is not allowed", rel.Offset)
		}
		return addrOf(m.slab) + uint64(rel.Offset), nil
	case object.RelocKsym:
		return 0, nil
	}
	return bad("unexpected relocation kind %d", rel.Kind)
}

func mapName(m *object.MapSpec) string {
	if m == nil {
		return "<nil>"
	}
	return m.Name
}

// decodeCall resolves a call: subprogram, helper or kfunc.
func (c *Collection) decodeCall(p *program, i int, ins asm.Instruction, target func(int, int64) (int32, error)) (insn, error) {
	in := insn{}
	switch ins.Src {
	case asm.PseudoCall:
		t, err := target(i, int64(int32(ins.Constant)))
		if err != nil {
			return insn{}, err
		}
		in.op, in.jt = opCall, t
		return in, nil
	case asm.PseudoHelperCall:
		table := helpers
		if c.helpers != nil {
			table = c.helpers
		}
		f, ok := table[int32(ins.Constant)]
		if !ok {
			return insn{}, &decodeError{p.slots[i], fmt.Sprintf("invalid func unknown#%d", int32(ins.Constant))}
		}
		in.op, in.jt = opCallHelper, int32(len(p.funcs))
		p.funcs = append(p.funcs, f)
		return in, nil
	case asm.PseudoKfuncCall:
		rel, ok := p.spec.Relocations[i]
		name := ""
		if ok && rel.Extern != nil {
			name = rel.Extern.Name
		}
		f, ok := kfuncs[name]
		if ok && name == "bpf_arena_free_pages" && c.kernel.DeferredFree && i < len(p.nonSleepable) && p.nonSleepable[i] {
			f = kfArenaFreeDeferred
		}
		if !ok {
			// A missing __weak kfunc: the program may guard the call
			// with bpf_ksym_exists(); reaching it is an error.
			missing := name
			f = func(m *machine, _, _, _, _, _ uint64, _ int) (uint64, error) {
				return 0, fmt.Errorf("kfunc %q is not available in the vm", missing)
			}
		}
		in.op, in.jt = opCallHelper, int32(len(p.funcs))
		if op, ok := inlineKfuncs[name]; ok && kfuncs[name] != nil {
			in.op = op
		}
		p.funcs = append(p.funcs, f)
		return in, nil
	}
	return insn{}, &decodeError{p.slots[i], fmt.Sprintf("invalid call source %d", ins.Src)}
}
