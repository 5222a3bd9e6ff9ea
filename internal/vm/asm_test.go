package vm

import (
	"github.com/bpfarena/bpfarena/internal/kversion"
	"sync"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/vm/verifier"
	"github.com/bpfarena/bpfarena/object"
)

// A small assembler for hand-written test programs.

func raw(op uint8, dst, src uint8, off int16, imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(op), Dst: asm.Register(dst), Src: asm.Register(src), Offset: off, Constant: imm}
}

const (
	bpfAdd  = 0x00
	bpfSub  = 0x10
	bpfMul  = 0x20
	bpfDiv  = 0x30
	bpfOr   = 0x40
	bpfAnd  = 0x50
	bpfLsh  = 0x60
	bpfRsh  = 0x70
	bpfNeg  = 0x80
	bpfMod  = 0x90
	bpfXor  = 0xa0
	bpfMov  = 0xb0
	bpfArsh = 0xc0
	bpfEnd  = 0xd0

	bpfJa   = 0x00
	bpfJeq  = 0x10
	bpfJgt  = 0x20
	bpfJge  = 0x30
	bpfJset = 0x40
	bpfJne  = 0x50
	bpfJsgt = 0x60
	bpfJsge = 0x70
	bpfJlt  = 0xa0
	bpfJle  = 0xb0
	bpfJslt = 0xc0
	bpfJsle = 0xd0

	bpfB  = 0x10
	bpfH  = 0x08
	bpfW  = 0x00
	bpfDW = 0x18
)

func alu64K(op uint8, dst uint8, imm int64) asm.Instruction { return raw(0x07|op, dst, 0, 0, imm) }
func alu64X(op uint8, dst, src uint8) asm.Instruction       { return raw(0x0f|op, dst, src, 0, 0) }
func alu32K(op uint8, dst uint8, imm int64) asm.Instruction { return raw(0x04|op, dst, 0, 0, imm) }
func alu32X(op uint8, dst, src uint8) asm.Instruction       { return raw(0x0c|op, dst, src, 0, 0) }
func mov64K(dst uint8, imm int64) asm.Instruction           { return alu64K(bpfMov, dst, imm) }
func mov64X(dst, src uint8) asm.Instruction                 { return alu64X(bpfMov, dst, src) }
func ldImm64(dst uint8, v uint64) asm.Instruction           { return raw(0x18, dst, 0, 0, int64(v)) }
func exit() asm.Instruction                                 { return raw(0x95, 0, 0, 0, 0) }
func jmpK(op uint8, dst uint8, imm int64, off int16) asm.Instruction {
	return raw(0x05|op, dst, 0, off, imm)
}
func jmpX(op uint8, dst, src uint8, off int16) asm.Instruction { return raw(0x0d|op, dst, src, off, 0) }
func jmp32K(op uint8, dst uint8, imm int64, off int16) asm.Instruction {
	return raw(0x06|op, dst, 0, off, imm)
}
func ja(off int16) asm.Instruction { return raw(0x05, 0, 0, off, 0) }
func ldx(size uint8, dst, src uint8, off int16) asm.Instruction {
	return raw(0x61|size, dst, src, off, 0)
}
func ldxsx(size uint8, dst, src uint8, off int16) asm.Instruction {
	return raw(0x81|size, dst, src, off, 0)
}
func stx(size uint8, dst, src uint8, off int16) asm.Instruction {
	return raw(0x63|size, dst, src, off, 0)
}
func st(size uint8, dst uint8, off int16, imm int64) asm.Instruction {
	return raw(0x62|size, dst, 0, off, imm)
}
func atomicOp(size uint8, dst, src uint8, off int16, op int64) asm.Instruction {
	return raw(0xc3|size, dst, src, off, op)
}
func call(id int64) asm.Instruction            { return raw(0x85, 0, 0, 0, id) }
func callSub(rel int64) asm.Instruction        { return raw(0x85, 0, 1, 0, rel) }
func kcall() asm.Instruction                   { return raw(0x85, 0, 2, 0, 0) }
func castUser(dst, src uint8) asm.Instruction  { return raw(0xbf, dst, src, 1, asm.CastToUser) }
func castArena(dst, src uint8) asm.Instruction { return raw(0xbf, dst, src, 1, asm.CastToArena) }
func mayGoto(off int16) asm.Instruction        { return raw(0xe5, 0, 0, off, 0) }

// testAccess holds, per program, the instruction indices whose memory
// access goes to the arena: the annotation a real verifier derives.
var testAccess sync.Map // *object.ProgramSpec -> map[int]bool

// testALU32 holds, per program, the instruction indices a test marks as
// 64-bit ALU on an arena pointer, overriding the real pass.
var testALU32 sync.Map // *object.ProgramSpec -> []int

func init() {
	real := verify
	verify = func(ps *object.ProgramSpec, env verifier.Env) (*verifier.Result, error) {
		v, ok := testAccess.Load(ps)
		if !ok {
			return real(ps, env)
		}
		// Hand-written programs test the interpreter, including what
		// the static pass would refuse; mark their accesses here.
		res := &verifier.Result{Access: make([]verifier.Access, len(ps.Instructions))}
		for i, in := range ps.Instructions {
			switch in.OpCode & 7 {
			case 1, 2, 3:
				res.Access[i] = verifier.AccessOther
			}
		}
		for i := range v.(map[int]bool) {
			res.Access[i] = verifier.AccessArena
		}
		// The 32-bit arena ALU marks come from the real pass when it
		// accepts the program, unless the test gives its own.
		if marks, ok := testALU32.Load(ps); ok {
			res.ALU32 = make([]bool, len(ps.Instructions))
			for _, i := range marks.([]int) {
				res.ALU32[i] = true
			}
		} else if r, err := real(ps, env); err == nil {
			res.ALU32 = r.ALU32
		}
		return res, nil
	}
}

// progSpec builds a syscall program; arena lists the indices of arena
// accesses.
func progSpec(name string, insns []asm.Instruction, arena ...int) *object.ProgramSpec {
	ps := &object.ProgramSpec{Name: name, Type: object.Syscall, Instructions: insns,
		Relocations: map[int]object.Relocation{}, Sleepable: true}
	set := map[int]bool{}
	for _, i := range arena {
		set[i] = true
	}
	testAccess.Store(ps, set)
	return ps
}

func arenaSpec(pages uint32, flags uint32, extra uint64) *object.MapSpec {
	return &object.MapSpec{Name: "arena", Type: object.Arena, MaxEntries: pages,
		Flags: object.FlagMmapable | flags, MapExtra: extra, Section: ".maps"}
}

// model618 is the kernel the hand-written tests' expectations were
// measured on; tests of other kernels say which they model.
var model618, _ = kversion.Parse("6.18")

func mustLoad(t testing.TB, spec *object.Spec) *Collection {
	t.Helper()
	return mustLoadKernel(t, spec, model618)
}

func mustLoadKernel(t testing.TB, spec *object.Spec, k *kversion.Model) *Collection {
	t.Helper()
	c, err := load(spec, engine.Options{Kernel: k})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// run64 runs a loaded program once and returns the full r0.
func run64(c *Collection, name string) (uint64, *machine, error) {
	p := c.progs[name].p
	m := newMachine(c)
	m.p = p
	m.budget = c.budget
	m.regions = append(m.regions, c.regions...)
	r0, err := m.call(0, 0, 0, 0, 0, 0, 0)
	return r0, m, err
}

func engineOpts(budget uint64) engine.Options { return engine.Options{InsnBudget: budget} }
func runOpts() engine.RunOptions              { return engine.RunOptions{} }
