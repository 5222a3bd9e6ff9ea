package verifier

import (
	"sort"
	"strconv"
	"syscall"

	"github.com/bpfarena/bpfarena/asm"
)

// The walk merges the states that meet at a join point, so it ends on any
// program, looping or not. The kernel instead follows each path on its own
// and gives up on a loop it cannot see the end of. checkLoops reproduces
// that verdict for the loops whose course the walk's values decide: it
// replays each loop from a state that reached its head, one path at a
// time and without merging, as the kernel does, until the path leaves the
// loop (accepted), comes back to a state it was already in ("infinite loop
// detected at insn N"), keeps a branch that leaves the loop pending for
// each turn past the kernel's limit on pending branches ("The sequence of
// 8193 jumps is too complex.") or exceeds the kernel's instruction limit
// ("BPF program is too large. Processed 1000001 insn").
//
// A loop is replayed only while the replay can stand for the kernel's: a
// branch inside it must be decided by constants, or compare a constant
// with a number the kernel knows nothing about (which it cannot decide
// either) with one side leaving the loop. Loops that call a kfunc (the
// bpf_iter_num ones), a function or a helper that takes a callback
// (bpf_loop), or use may_goto, are left to the kernel's special rules for
// them and not replayed; neither are loops
// whose replay meets anything else, which the vm accepts as before and
// runs under its instruction budget.

// counters are the kernel's counts at a prune point: instructions and
// jumps walked, and both at the last state recorded.
type counters struct{ insns, jmps, lastInsn, lastJmps int }

// countPrunePoint follows, during the walk, when the kernel would record a
// state (at least 2 jumps and 8 instructions since the last one), and
// notes the counts at the first arrival at pc, where a replay of a loop
// starting there takes them up.
func (v *verifier) countPrunePoint(pc int) {
	if _, ok := v.arrival[pc]; !ok {
		v.arrival[pc] = counters{v.processed, v.jmps, v.lastInsn, v.lastJmps}
	}
	if v.jmps-v.lastJmps >= 2 && v.processed-v.lastInsn >= 8 {
		v.lastInsn, v.lastJmps = v.processed, v.jmps
	}
}

// callbackHelpers are the helpers that take a callback (bpf_loop,
// bpf_for_each_map_elem, bpf_timer_set_callback, bpf_find_vma,
// bpf_user_ringbuf_drain), whose loops the kernel checks by its own rules,
// and bpf_tail_call, which leaves the program.
var callbackHelpers = map[int64]bool{181: true, 164: true, 170: true, 180: true, 209: true, 12: true}

// maxPending is the kernel's BPF_COMPLEXITY_LIMIT_JMP_SEQ: how many
// branches may wait to be explored.
const maxPending = 8192

// loopGraph is the control flow the replay needs: each instruction's
// successors within its function, and the kernel's prune points (where it
// compares and records states).
type loopGraph struct {
	succ     [][]int
	prune    []bool
	jmpPoint []bool // where the kernel extends a path's jump history
}

// recorded is a state the replay recorded at a prune point, with the
// kernel's count of the times it failed to match since.
type recorded struct {
	st   *state
	fp   uint64
	miss int
}

func (v *verifier) loopGraph() loopGraph {
	n := len(v.insns)
	g := loopGraph{succ: make([][]int, n), prune: make([]bool, n), jmpPoint: make([]bool, n)}
	for pc, ins := range v.insns {
		switch {
		case ins.IsExit():
		case ins.IsUnconditionalJump():
			t := v.target(pc)
			g.succ[pc] = []int{t}
			g.prune[t] = true
			g.jmpPoint[t] = true
		case ins.IsConditionalJump():
			t := v.target(pc)
			g.succ[pc] = []int{pc + 1, t}
			g.prune[t] = true
			g.jmpPoint[t] = true
			g.prune[pc] = true
		case ins.IsCall():
			if pc+1 < n {
				g.succ[pc] = []int{pc + 1}
				g.prune[pc+1] = true
				g.jmpPoint[pc+1] = true
			}
		default:
			if pc+1 < n {
				g.succ[pc] = []int{pc + 1}
			}
		}
	}
	return g
}

// cycles returns the strongly connected components of the graph that
// contain a cycle, each sorted (Tarjan's algorithm, without recursion so
// that long programs cannot exhaust the goroutine stack).
func (g loopGraph) cycles() [][]int {
	n := len(g.succ)
	index := make([]int, n)
	low := make([]int, n)
	on := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var out [][]int
	var comp []int
	next := 0
	type frame struct{ pc, i int }
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		comp = append(comp, root)
		on[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.i < len(g.succ[f.pc]) {
				w := g.succ[f.pc][f.i]
				f.i++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					comp = append(comp, w)
					on[w] = true
					call = append(call, frame{w, 0})
				} else if on[w] {
					low[f.pc] = min(low[f.pc], index[w])
				}
				continue
			}
			pc := f.pc
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].pc
				low[p] = min(low[p], low[pc])
			}
			if low[pc] != index[pc] {
				continue
			}
			var scc []int
			for {
				w := comp[len(comp)-1]
				comp = comp[:len(comp)-1]
				on[w] = false
				scc = append(scc, w)
				if w == pc {
					break
				}
			}
			if len(scc) > 1 || selfLoop(g.succ[pc], pc) {
				sort.Ints(scc)
				out = append(out, scc)
			}
		}
	}
	return out
}

func selfLoop(succ []int, pc int) bool {
	for _, s := range succ {
		if s == pc {
			return true
		}
	}
	return false
}

// checkLoops replays the program's loops (see above) and reports the
// kernel's error for one that does not end.
func (v *verifier) checkLoops() error {
	g := v.loopGraph()
	loops := g.cycles()
	if len(loops) == 0 {
		return nil
	}
	atPC := map[int][]point{}
	for p := range v.stored {
		atPC[p.pc] = append(atPC[p.pc], p)
	}
	for _, scc := range loops {
		in := make(map[int]bool, len(scc))
		replay := true
		for _, pc := range scc {
			in[pc] = true
			ins := v.insns[pc]
			if ins.IsCall() && !(ins.IsHelperCall() && !callbackHelpers[ins.Constant]) || ins.IsMayGoto() {
				replay = false
			}
		}
		if !replay {
			continue
		}
		// The first instruction of the loop that a path reached: its
		// first state kept there is the state a path entered with.
		for _, head := range scc {
			pts := atPC[head]
			if len(pts) == 0 {
				continue
			}
			sort.Slice(pts, func(i, j int) bool { return pts[i].key < pts[j].key })
			for _, p := range pts {
				if err := v.replayLoop(g, in, head, v.stored[p][0].clone()); err != nil {
					return err
				}
			}
			break
		}
	}
	return nil
}

// replayLoop follows one path through the loop in from head, starting
// with st. It returns the kernel's error when the path never leaves the
// loop, nil when it leaves or the replay cannot stand for the kernel's.
func (v *verifier) replayLoop(g loopGraph, in map[int]bool, head int, st *state) (err error) {
	saved := v.log.String()
	defer func() {
		if err == nil {
			// Errors met during a replay that was abandoned are not the
			// program's: the walk accepted every state the replay meets.
			v.log.Reset()
			v.log.WriteString(saved)
		}
	}()
	depth := len(st.frames)
	seen := map[int][]*recorded{}
	hist := 0
	// The counts go on from the walk's first arrival at the head, which
	// followed the kernel's first path there as long as the path
	// before the loop has no branch the walk merged.
	a := v.arrival[head]
	insns, jmps, prevInsns, prevJmps, pending := max(a.insns-1, 0), a.jmps, a.lastInsn, a.lastJmps, 0
	pc := head
	for {
		insns++
		if insns > insnLimit {
			v.processed = insnLimit + 1
			return v.fail(pc, syscall.E2BIG, "BPF program is too large. Processed "+strconv.Itoa(insnLimit+1)+" insn")
		}
		if g.prune[pc] {
			// The kernel's is_state_visited on a path that is all in
			// progress: compare with the states recorded here (newest
			// first), drop those that keep missing, record a new one
			// when at least 2 jumps and 8 instructions passed since
			// the last (20 jumps or 100 instructions where one is
			// already here), or when the jump history grew past 40.
			force := hist > 40
			add := force || jmps-prevJmps >= 2 && insns-prevInsns >= 8
			fp := fingerprint(pc, st)
			list := seen[pc][:0]
			for _, r := range seen[pc] {
				if r.fp == fp && coversState(r.st, st) && coversState(st, r.st) {
					v.processed = insns
					return v.fail(pc, syscall.EINVAL, "infinite loop detected at insn "+strconv.Itoa(v.offs[pc]))
				}
				if !force && jmps-prevJmps < 20 && insns-prevInsns < 100 {
					add = false
				}
				if add {
					r.miss++
				}
				if r.miss <= 3 {
					list = append(list, r)
				}
			}
			seen[pc] = list
			if add {
				seen[pc] = append([]*recorded{{st: st.clone(), fp: fp}}, seen[pc]...)
				prevInsns, prevJmps, hist = insns, jmps, 0
			}
		}
		if g.jmpPoint[pc] {
			hist++
		}
		ins := v.insns[pc]
		if ins.Class().IsJump() {
			jmps++
		}
		unknowable := ins.IsConditionalJump() && v.undecidable(st, ins)
		next, serr := v.step(pc, st)
		if serr != nil {
			return nil
		}
		var stay []item
		exitTaken := false
		for _, it := range next {
			if in[it.pc] && len(it.st.frames) == depth {
				stay = append(stay, it)
			} else if ins.IsConditionalJump() && it.pc == v.target(pc) {
				exitTaken = true
			}
		}
		switch {
		case len(stay) == 0:
			return nil
		case len(next) == 1:
		case len(next) == 2 && len(stay) == 1 && unknowable:
			// The kernel explores the exit later and goes on around the
			// loop; an exit on the taken side waits on its stack.
			if exitTaken {
				pending++
				if pending > maxPending {
					v.processed = insns
					return v.fail(pc, syscall.E2BIG, "The sequence of "+strconv.Itoa(pending)+" jumps is too complex.")
				}
			}
			// The kernel narrows the number on the side it goes on
			// with, and every copy of it (registers and stack slots
			// linked by id), so that a later comparison may be
			// decided. The vm does not link copies: only a number
			// loaded afresh counts as unbounded from here on.
			forEachValue(stay[0].st, func(x *value) { x.wide = false })
		default:
			return nil
		}
		pc, st = stay[0].pc, stay[0].st
	}
}

// undecidable reports whether the conditional jump ins compares a
// constant with a number of which the kernel knows no bound, so that it
// follows both sides: the comparison holds for some values of the number
// and fails for others.
func (v *verifier) undecidable(st *state, ins asm.Instruction) bool {
	if ins.IsMayGoto() || ins.Dst > asm.R10 || ins.Src > asm.R10 {
		return false
	}
	f := st.cur()
	d := f.regs[ins.Dst]
	s := constScalar(uint64(ins.Constant))
	if ins.OpCode.Source() == asm.SourceX {
		s = f.regs[ins.Src]
	}
	unbounded := func(x value) bool { return x.k == kScalar && x.wide && !x.known }
	op, is32 := ins.JumpOp(), ins.Class() == asm.ClassJMP32
	if op == asm.JumpJEQ || op == asm.JumpJNE || op == asm.JumpJSET {
		// The number takes more values than one constant rules out.
		return (unbounded(d) && s.isConst() && !(op == asm.JumpJSET && s.v == 0)) ||
			(unbounded(s) && d.isConst() && !(op == asm.JumpJSET && d.v == 0))
	}
	// An ordering comparison is monotonic in the number: it is decided
	// exactly when it has the same outcome at both ends of its range.
	lo, hi := uint64(0), ^uint64(0)
	switch op {
	case asm.JumpJSGT, asm.JumpJSGE, asm.JumpJSLT, asm.JumpJSLE:
		lo, hi = 1<<63, 1<<63-1
		if is32 {
			lo, hi = 1<<31, 1<<31-1
		}
	}
	switch {
	case unbounded(d) && s.isConst():
		return decide(op, constScalar(lo), s, is32) != decide(op, constScalar(hi), s, is32)
	case unbounded(s) && d.isConst():
		return decide(op, d, constScalar(lo), is32) != decide(op, d, constScalar(hi), is32)
	}
	return false
}

// fingerprint hashes the registers of a state, to compare it in full only
// with the states recorded that may equal it.
func fingerprint(pc int, st *state) uint64 {
	h := uint64(14695981039346656037)
	mix := func(x uint64) {
		h ^= x
		h *= 1099511628211
	}
	mix(uint64(pc))
	mix(uint64(len(st.frames)))
	for _, r := range st.cur().regs {
		mix(uint64(r.k))
		if r.known {
			mix(r.v)
		}
		if r.offOK {
			mix(uint64(r.off))
		}
		mix(uint64(r.bits))
	}
	return h
}
