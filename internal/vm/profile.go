package vm

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

// runProfile collects a profile while a program runs. The interpreter
// already charges its budget once per run of straight-line code (the
// instructions between two taken jumps, calls or exits); a profile records
// each such run [start, end) in a difference array, so counting costs one
// increment and one decrement per taken jump whatever the length of the
// run, and nothing when no profile is wanted.
type runProfile struct {
	prog   *program // what is profiled; a program it tail-calls runs unprofiled
	diff   []int64  // diff[i] - diff[i-1] summed: the count of instruction i
	callNs []int64  // own time of the helper calls at each instruction
	calls  []uint64
	// nested is the time spent in callbacks (bpf_loop), which a helper's
	// own time excludes: the callback's instructions count for themselves.
	nested int64
}

func newRunProfile(p *program) *runProfile {
	n := len(p.code)
	return &runProfile{prog: p, diff: make([]int64, n+1), callNs: make([]int64, n), calls: make([]uint64, n)}
}

// seg records that instructions [start, end) ran once each.
func (p *runProfile) seg(start, end int) {
	p.diff[start]++
	p.diff[end]--
}

// helper calls f for the instruction at pc and times it.
func (p *runProfile) helper(m *machine, pc int, f helperFunc, a1, a2, a3, a4, a5 uint64, depth int) (uint64, error) {
	n0 := p.nested
	t0 := time.Now()
	v, err := f(m, a1, a2, a3, a4, a5, depth)
	el := int64(time.Since(t0)) - (p.nested - n0)
	p.callNs[pc] += max(el, 0)
	p.calls[pc]++
	return v, err
}

// callback runs a nested call, timed so that the helper that made it does
// not count its time.
func (p *runProfile) callback(m *machine, entry int, r1, r2, r3, r4, r5 uint64, depth int) (uint64, error) {
	t0 := time.Now()
	v, err := m.p.ex.call(m, entry, r1, r2, r3, r4, r5, depth)
	p.nested += int64(time.Since(t0))
	return v, err
}

// build turns the counts into a profile of runs taking total.
func (p *runProfile) build(prog *program, runs uint32, total time.Duration) *engine.Profile {
	n := len(prog.raw) // the instructions after the program's are the interpreter's
	pr := &engine.Profile{Program: prog.name, Runs: runs, Duration: total}
	counts := make([]uint64, n)
	var c int64
	var callNs int64
	for i := 0; i < n; i++ {
		c += p.diff[i]
		counts[i] = uint64(c)
		pr.Insns += counts[i]
		pr.Calls += p.calls[i]
		callNs += p.callNs[i]
	}
	// What the calls did not take is the instructions' time, shared by
	// count.
	perInsn := 0.0
	if pr.Insns > 0 {
		perInsn = float64(max(int64(total)-callNs, 0)) / float64(pr.Insns)
	}
	pr.Insn = make([]engine.ProfileInsn, n)
	for i := range pr.Insn {
		pr.Insn[i] = engine.ProfileInsn{Index: i, Slot: prog.slotOf(i), Count: counts[i], Calls: p.calls[i],
			Time: time.Duration(float64(counts[i])*perInsn) + time.Duration(p.callNs[i])}
	}
	funcs := prog.spec.Funcs
	funcOf := func(i int) string {
		k := sort.Search(len(funcs), func(k int) bool { return funcs[k].Index > i })
		if k == 0 {
			return prog.name
		}
		return funcs[k-1].Name
	}
	type lineKey struct {
		file string
		line uint32
	}
	lines := map[lineKey]*engine.ProfileLine{}
	byFunc := map[string]*engine.ProfileFunc{}
	for i, in := range pr.Insn {
		if in.Count == 0 && in.Calls == 0 {
			continue
		}
		var l object.Line
		if k := sort.Search(len(prog.lines), func(k int) bool { return prog.lines[k].Index > i }); k > 0 {
			l = prog.lines[k-1]
		}
		fn := funcOf(i)
		pr.Insn[i].Func, pr.Insn[i].File, pr.Insn[i].Line = fn, l.File, l.Line
		key := lineKey{l.File, l.Line}
		pl := lines[key]
		if pl == nil {
			pl = &engine.ProfileLine{File: l.File, Line: l.Line, Source: l.Source, Func: fn}
			lines[key] = pl
		}
		pl.Insns += in.Count
		pl.Calls += in.Calls
		pl.Time += in.Time
		pf := byFunc[fn]
		if pf == nil {
			pf = &engine.ProfileFunc{Name: fn}
			byFunc[fn] = pf
		}
		pf.Insns += in.Count
		pf.Calls += in.Calls
		pf.Time += in.Time
	}
	for _, pl := range lines {
		pr.Lines = append(pr.Lines, *pl)
	}
	for _, pf := range byFunc {
		pr.Funcs = append(pr.Funcs, *pf)
	}
	slices.SortFunc(pr.Lines, func(a, b engine.ProfileLine) int {
		return cmp.Or(cmp.Compare(b.Time, a.Time), cmp.Compare(b.Insns, a.Insns),
			cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	slices.SortFunc(pr.Funcs, func(a, b engine.ProfileFunc) int {
		return cmp.Or(cmp.Compare(b.Time, a.Time), cmp.Compare(b.Insns, a.Insns), cmp.Compare(a.Name, b.Name))
	})
	return pr
}
