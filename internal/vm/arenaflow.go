package vm

import (
	"sort"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

// aluSet is an arenaALU answer: the instruction indices.
type aluSet map[int]bool

// ArenaALU reports whether instruction i is 64-bit ALU on an arena pointer.
func (s aluSet) ArenaALU(i int) bool { return s[i] }

// arenaFlow finds the 64-bit ALU instructions whose destination holds an
// arena pointer, for a static pass that does not report them. The kernel's
// verifier knows the type of every register on every path; this is the
// same question answered by a may-analysis over the control flow graph:
// a register is an arena pointer after addr_space_cast(r, 0, 1), after any
// ALU operation on an arena pointer, after a copy of one, after a fill of a
// stack slot an arena pointer was spilled to, and on entry to a global
// function whose argument is tagged __arg_arena. Calls clobber r0-r5
// (helpers and kfuncs return scalars; a static subprogram returns what its
// exits hold). Paths are merged by union, so a register that is an arena
// pointer on one path only counts as one.
type arenaFlow struct {
	insns   asm.Instructions
	slots   []int
	idxOf   map[int]int // slot -> index
	funcOf  []int       // instruction -> function number
	funcs   []flowFunc
	in      []flowState
	seen    []bool
	work    []int
	callers map[int][]int // function -> call instructions
	alu     map[int]bool
}

type flowFunc struct {
	start  int
	global bool
	args   uint16 // __arg_arena arguments as register bits
	entry  flowState
	ret    bool // r0 may be an arena pointer at an exit
}

// flowState: bit r of regs is set when register r may hold an arena
// pointer; bit k of stack when the 8-byte slot at r10-8*(k+1) may.
type flowState struct {
	regs  uint16
	stack uint64
}

func (s flowState) join(o flowState) (flowState, bool) {
	n := flowState{s.regs | o.regs, s.stack | o.stack}
	return n, n != s
}

// arenaALUFlow runs the analysis on ps.
func arenaALUFlow(ps *object.ProgramSpec) aluSet {
	f := &arenaFlow{insns: ps.Instructions, idxOf: map[int]int{}, callers: map[int][]int{}, alu: map[int]bool{}}
	n := len(f.insns)
	f.slots = make([]int, n)
	slot := 0
	for i, in := range f.insns {
		f.slots[i] = slot
		f.idxOf[slot] = i
		slot += in.Size() / asm.InstructionSize
	}
	funcs := append([]object.Func(nil), ps.Funcs...)
	sort.Slice(funcs, func(a, b int) bool { return funcs[a].Index < funcs[b].Index })
	if len(funcs) == 0 || funcs[0].Index != 0 {
		funcs = append([]object.Func{{Index: 0}}, funcs...)
	}
	for _, fn := range funcs {
		ff := flowFunc{start: fn.Index, global: fn.Global && fn.Index != 0}
		for a, tagged := range fn.ArenaArgs {
			if tagged && a < 5 {
				ff.args |= 1 << (a + 1)
			}
		}
		ff.entry.regs = ff.args
		f.funcs = append(f.funcs, ff)
	}
	f.funcOf = make([]int, n)
	for i, k := 0, 0; i < n; i++ {
		for k+1 < len(f.funcs) && f.funcs[k+1].start <= i {
			k++
		}
		f.funcOf[i] = k
	}
	f.in = make([]flowState, n)
	f.seen = make([]bool, n)
	for k := range f.funcs {
		if f.funcs[k].start < n {
			f.push(f.funcs[k].start, f.funcs[k].entry)
		}
	}
	for steps := 0; len(f.work) > 0 && steps < 1<<22; steps++ {
		i := f.work[len(f.work)-1]
		f.work = f.work[:len(f.work)-1]
		f.step(i)
	}
	return f.alu
}

func (f *arenaFlow) push(i int, s flowState) {
	if i < 0 || i >= len(f.insns) {
		return
	}
	if !f.seen[i] {
		f.seen[i] = true
		f.in[i] = s
		f.work = append(f.work, i)
		return
	}
	if n, changed := f.in[i].join(s); changed {
		f.in[i] = n
		f.work = append(f.work, i)
	}
}

// target returns the instruction a relative slot offset leads to, or -1.
func (f *arenaFlow) target(i int, rel int64) int {
	t := int64(f.slots[i]) + int64(f.insns[i].Size()/asm.InstructionSize) + rel
	if k, ok := f.idxOf[int(t)]; ok {
		return k
	}
	return -1
}

func (f *arenaFlow) funcAt(idx int) int {
	for k := range f.funcs {
		if f.funcs[k].start == idx {
			return k
		}
	}
	return -1
}

func set(s *flowState, r asm.Register, arena bool) {
	if r > 10 {
		return
	}
	if arena {
		s.regs |= 1 << r
	} else {
		s.regs &^= 1 << r
	}
}

func has(s flowState, r asm.Register) bool { return r <= 10 && s.regs&(1<<r) != 0 }

func (f *arenaFlow) step(i int) {
	in := f.insns[i]
	s := f.in[i]
	code := uint8(in.OpCode)
	class := code & classMask
	next := i + 1
	switch class {
	case 0x04, 0x07: // ALU, ALU64
		op := code & opMask
		switch {
		case op == 0xb0 && in.Offset == asm.AddrSpaceCastOffset && class == 0x07:
			set(&s, in.Dst, in.Constant == asm.CastToArena)
		case op == 0xb0:
			set(&s, in.Dst, class == 0x07 && in.Offset == 0 && code&srcX != 0 && has(s, in.Src))
		case op == 0x80 || op == 0xd0:
			// neg and byte swaps keep the type; no rewrite.
		default:
			if has(s, in.Dst) && class == 0x07 {
				f.alu[i] = true
			}
		}
	case 0x05, 0x06: // JMP, JMP32
		op := code & opMask
		switch {
		case op == 0x90 && class == 0x05: // exit
			k := f.funcOf[i]
			if has(s, asm.R0) && !f.funcs[k].ret && !f.funcs[k].global {
				f.funcs[k].ret = true
				for _, c := range f.callers[k] {
					f.push(c+1, f.afterCall(c, f.in[c], k))
				}
			}
			return
		case op == 0x80 && class == 0x05: // call
			if in.Src == asm.PseudoCall {
				t := f.target(i, int64(int32(in.Constant)))
				k := f.funcAt(t)
				if k < 0 {
					break
				}
				known := false
				for _, c := range f.callers[k] {
					known = known || c == i
				}
				if !known {
					f.callers[k] = append(f.callers[k], i)
				}
				if !f.funcs[k].global {
					entry := flowState{regs: s.regs & 0x3e}
					if e, changed := f.funcs[k].entry.join(entry); changed || !f.seen[t] {
						f.funcs[k].entry = e
						f.push(t, e)
					}
				}
				f.push(next, f.afterCall(i, s, k))
				return
			}
			f.push(next, f.afterCall(i, s, -1))
			return
		case op == 0x00: // ja, gotol
			rel := int64(in.Offset)
			if class == 0x06 {
				rel = int64(int32(in.Constant))
			}
			f.push(f.target(i, rel), s)
			return
		default: // conditional jumps and may_goto
			f.push(f.target(i, int64(in.Offset)), s)
		}
	case 0x00: // ld_imm64
		set(&s, in.Dst, false)
	case 0x01: // LDX
		arena := false
		if in.Src == asm.R10 && code&sizeMask == sizeDW && code&modeMask == modeMem {
			if k, ok := stackSlot(in.Offset); ok {
				arena = s.stack&(1<<k) != 0
			}
		}
		set(&s, in.Dst, arena)
	case 0x02, 0x03: // ST, STX
		if in.Dst == asm.R10 {
			if k, ok := stackSlot(in.Offset &^ 7); ok {
				full := class == 0x03 && code&sizeMask == sizeDW && code&modeMask == modeMem && in.Offset%8 == 0
				if full && has(s, in.Src) {
					s.stack |= 1 << k
				} else {
					s.stack &^= 1 << k
				}
			}
		}
		if class == 0x03 && code&modeMask == modeAtom {
			switch uint32(in.Constant) {
			case atomicCmpXchg:
				set(&s, asm.R0, false)
			case atomicLoadAcq:
				set(&s, in.Dst, false)
			default:
				if uint32(in.Constant)&atomicFetch != 0 {
					set(&s, in.Src, false)
				}
			}
		}
	}
	f.push(next, s)
}

// afterCall is the state after a call at i to function k (-1: a helper or
// kfunc): r0-r5 clobbered, r0 an arena pointer only from a static
// subprogram that may return one.
func (f *arenaFlow) afterCall(i int, s flowState, k int) flowState {
	s.regs &^= 0x3f
	if k >= 0 && f.funcs[k].ret {
		s.regs |= 1
	}
	return s
}

// stackSlot maps an r10-relative offset to a spill slot.
func stackSlot(off int16) (uint, bool) {
	if off >= 0 || off < -512 || off%8 != 0 {
		return 0, false
	}
	return uint(-off/8 - 1), true
}
