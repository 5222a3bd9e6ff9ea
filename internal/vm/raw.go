package vm

import (
	"fmt"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

// RawHelper is a helper given to RunRaw: it gets r1-r5 and returns r0; an
// error stops the run.
type RawHelper func(r1, r2, r3, r4, r5 uint64) (uint64, error)

// RawOptions configures RunRaw.
type RawOptions struct {
	// Helpers are the only helpers the program may call, by id; a call
	// to any other id makes the program invalid.
	Helpers map[int32]RawHelper
	// InsnBudget bounds the run (DefaultInsnBudget when 0); a program
	// that runs longer stops with ErrBudget.
	InsnBudget uint64
}

// RunRaw runs a bare instruction stream, as test suites for BPF runtimes
// give them: no object, no maps, no BTF, no program type. It starts with
// r1 pointing at mem and r2 holding len(mem), and returns the full 64-bit
// r0.
//
// The program may use the stack, read and write mem, load 64-bit
// constants, call its own functions (src 1) and the helpers of opts. Such
// suites also hold programs the kernel's verifier refuses (reads of stack
// bytes never written, loops it cannot bound), so the static pass's
// program-type and path rules are not applied. Memory safety does not
// depend on them: with no arena there is no arena access to type (every
// load and store is a plain one), and each plain access is checked at run
// time against the stack and mem, as for any program; the budget ends a
// program that does not stop.
func RunRaw(insns asm.Instructions, mem []byte, opts RawOptions) (uint64, error) {
	if len(insns) == 0 {
		return 0, fmt.Errorf("empty program: %w", errInval)
	}
	c := &Collection{
		byName:  map[string]int{},
		bySpec:  map[*object.MapSpec]int{},
		progs:   map[string]*Program{},
		budget:  opts.InsnBudget,
		helpers: map[int32]helperFunc{},
	}
	if c.budget == 0 {
		c.budget = DefaultInsnBudget
	}
	for id, h := range opts.Helpers {
		if h == nil {
			continue
		}
		c.helpers[id] = func(_ *machine, a1, a2, a3, a4, a5 uint64, _ int) (uint64, error) {
			return h(a1, a2, a3, a4, a5)
		}
	}
	ps := &object.ProgramSpec{Name: "raw", Instructions: insns, Relocations: map[int]object.Relocation{}}
	p, err := c.compile(ps, nil)
	if err != nil {
		return 0, err
	}
	m := newMachine(c)
	m.p = p
	m.budget = c.budget
	var r1 uint64
	if len(mem) > 0 {
		m.regions = append(m.regions, region{start: addrOf(mem), mem: mem, write: true, name: "memory"})
		r1 = addrOf(mem)
	}
	r0, err := m.call(0, r1, uint64(len(mem)), 0, 0, 0, 0)
	if err != nil {
		return 0, err
	}
	return r0, nil
}
