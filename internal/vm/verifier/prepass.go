package verifier

import (
	"errors"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

// maxVarOff bounds the offset of a direct map value reference, as
// BPF_MAX_VAR_OFF does in the kernel.
const maxVarOff = 1 << 29

// insnLimit is the kernel's complexity limit: how many instructions one
// verification may look at.
const insnLimit = 1000000

// maxFrames is the deepest call chain the kernel allows.
const maxFrames = 8

// statesPerPoint is how many distinct states are kept at one join point
// before new arrivals are merged into the last one. Keeping a few apart
// follows the paths separately like the kernel does (so a variable set and
// tested under the same condition is understood); merging beyond that
// guarantees termination.
const statesPerPoint = 8

type point struct {
	key string
	pc  int
}

type item struct {
	pc int
	st *state
}

// verifier holds one verification.
type verifier struct {
	prog   *object.ProgramSpec
	env    Env
	insns  asm.Instructions
	offs   []int // slot of each instruction
	nslots int

	access []Access
	alu32  []bool
	// nonSleepable marks kfunc calls made outside a sleepable context.
	nonSleepable []bool
	edges        []uint8 // per conditional jump: edgeFall | edgeTaken, the sides found reachable
	seen         []uint8 // per instruction: seenArena, seenOther

	subStarts []int // sorted instruction indices of function starts
	funcs     map[int]*object.Func
	prune     []bool

	stored map[point][]*state
	// The kernel's counters for recording states (see loops.go): jumps
	// walked, the instruction and jump counts at the last state the
	// kernel would have recorded, and their values at the first arrival
	// at each of its prune points.
	kprune             []bool
	jmps               int
	lastInsn, lastJmps int
	arrival            map[int]counters
	work               []item
	processed          int
	states             int
	peak               int

	arena      *object.MapSpec
	arenaInsn  int
	globalDone map[int]bool
	globals    []int
	inGlobal   int // instruction index of the global function being verified, -1 for the entry
	nextID     uint32

	// depth is the stack each function uses (bytes below its frame
	// pointer), chains the call chains of static functions met, for the
	// kernel's limit on their combined stack.
	depth  map[int]int64
	chains map[string][]int

	log      strings.Builder
	fmt      asm.Formatter
	tracePC  int // instruction being printed, for the names in the trace
	lastLine int // index in prog.Lines of the source line last printed
}

const (
	seenArena uint8 = 1 << iota
	seenOther
)

func newVerifier(prog *object.ProgramSpec, env Env) *verifier {
	if env.Kernel == nil {
		env.Kernel = kversion.Default()
	}
	v := &verifier{prog: prog, env: env, inGlobal: -1, lastLine: -1, globalDone: map[int]bool{}, stored: map[point][]*state{},
		funcs: map[int]*object.Func{}, depth: map[int]int64{}, chains: map[string][]int{}}
	if prog != nil {
		v.insns = prog.Instructions
	}
	v.access = make([]Access, len(v.insns))
	v.alu32 = make([]bool, len(v.insns))
	v.nonSleepable = make([]bool, len(v.insns))
	v.edges = make([]uint8, len(v.insns))
	v.seen = make([]uint8, len(v.insns))
	v.offs = v.insns.Offsets()
	v.nslots = v.insns.SlotCount()
	v.fmt = asm.Formatter{OpCode: true, Kfunc: v.kfuncName}
	return v
}

// progName is the program's name, for errors.
func (v *verifier) progName() string {
	if v.prog == nil {
		return ""
	}
	return v.prog.Name
}

// fail makes the rejection for the instruction at index pc (-1: none),
// adding msg to the log as the kernel does.
func (v *verifier) fail(pc int, errno syscall.Errno, msg string) *Error {
	v.log.WriteString(msg)
	v.log.WriteString("\n")
	if v.processed > 0 {
		v.log.WriteString(v.processedLine())
	}
	e := &Error{Program: v.progName(), Insn: -1, Msg: msg, Errno: errno}
	if pc >= 0 && pc < len(v.offs) {
		e.Insn = v.offs[pc]
		e.Line = v.lineOf(pc)
	}
	e.Log = v.log.String()
	return e
}

// processedLine is the kernel's closing statistics line.
func (v *verifier) processedLine() string {
	return "processed " + strconv.Itoa(v.processed) + " insns (limit 1000000) max_states_per_insn " +
		strconv.Itoa(v.peak) + " total_states " + strconv.Itoa(v.states) + " peak_states " + strconv.Itoa(v.states) + " mark_read 0\n"
}

// finalLog is the log of an accepted program, kept at level 1 and above.
func (v *verifier) finalLog() string {
	if v.env.LogLevel == 0 {
		return ""
	}
	v.log.WriteString(v.processedLine())
	return v.log.String()
}

// lineOf is "file.c:31" for the source line of instruction pc, if known.
func (v *verifier) lineOf(pc int) string {
	if v.prog == nil || len(v.prog.Lines) == 0 {
		return ""
	}
	lines := v.prog.Lines
	i := sort.Search(len(lines), func(i int) bool { return lines[i].Index > pc }) - 1
	if i < 0 {
		return ""
	}
	l := lines[i]
	return filepath.Base(l.File) + ":" + strconv.Itoa(int(l.Line))
}

// slotTarget converts a slot number into an instruction index.
func (v *verifier) slotTarget(slot int) (int, bool) {
	return asm.IndexOfSlot(v.offs, slot)
}

// jumpSlot is the slot a jump, call or pseudo func at pc refers to.
func (v *verifier) jumpSlot(pc int) (int, bool) {
	ins := v.insns[pc]
	rel, ok := ins.JumpTarget()
	if !ok {
		return 0, false
	}
	if ins.IsPseudoFunc() {
		// Counted from the ld_imm64's first slot, as the kernel does
		// (imm + 1), not from the instruction after it.
		return v.offs[pc] + 1 + rel, true
	}
	return v.offs[pc] + ins.Slots() + rel, true
}

// run performs the whole verification: the checks the kernel makes before
// walking the program, then the walk of the entry and of every global
// function it calls.
func (v *verifier) run() error {
	if len(v.insns) == 0 {
		return v.fail(-1, syscall.EINVAL, "empty program")
	}
	if err := v.checkInsns(); err != nil {
		return err
	}
	// Kernel functions are for GPL-compatible programs only; the kernel
	// checks it while collecting the kfunc calls, before any walk.
	if !object.GPLCompatible(v.prog.License) {
		for pc, ins := range v.insns {
			if ins.IsKfuncCall() {
				return v.fail(pc, syscall.EINVAL, "cannot call kernel function from non-GPL compatible program")
			}
		}
	}
	if err := v.checkSubprogs(); err != nil {
		return err
	}
	if err := v.checkCFG(); err != nil {
		return err
	}
	v.kprune = v.loopGraph().prune
	v.arrival = map[int]counters{}
	if err := v.explore(0, v.entryState()); err != nil {
		return err
	}
	for len(v.globals) > 0 {
		g := v.globals[0]
		v.globals = v.globals[1:]
		st, err := v.globalState(g)
		if err != nil {
			return err
		}
		v.inGlobal = g
		if v.env.LogLevel >= 1 {
			v.log.WriteString("Validating " + v.funcName(g) + "() func#" + strconv.Itoa(v.subprogIndex(g)) + "...\n")
		}
		if err := v.explore(g, st); err != nil {
			return err
		}
	}
	if err := v.checkLoops(); err != nil {
		return err
	}
	return v.checkStackDepth()
}

// useStack records that frame f's function uses the stack down to offset
// off.
func (v *verifier) useStack(f *frame, off int64) {
	v.depth[f.subprog] = max(v.depth[f.subprog], -off)
}

// checkStackDepth applies the kernel's limit on the stack of a chain of
// calls: the frames' sizes, each rounded up to 16 bytes as for the JIT,
// may not exceed 512 bytes together.
func (v *verifier) checkStackDepth() error {
	keys := make([]string, 0, len(v.chains))
	for k := range v.chains {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		chain := v.chains[k]
		total := int64(0)
		for _, s := range chain {
			total += (v.depth[s] + 15) &^ 15
		}
		if total > maxStack {
			return v.fail(-1, syscall.EACCES, "combined stack size of "+strconv.Itoa(len(chain))+" calls is "+strconv.FormatInt(total, 10)+". Too large")
		}
	}
	return nil
}

// checkInsns validates each instruction's encoding and resolves what the
// ld_imm64 instructions refer to, in program order like the kernel, which
// is where the arena rules about the program as a whole apply.
func (v *verifier) checkInsns() error {
	for pc, ins := range v.insns {
		if err := ins.Validate(); err != nil {
			var de *asm.DecodeError
			msg := err.Error()
			if errors.As(err, &de) {
				msg = de.Verifier
				if msg == "" {
					msg = "invalid instruction: " + de.Reason
				}
			}
			return v.fail(pc, syscall.EINVAL, msg)
		}
		if !ins.IsLoadImm64() {
			continue
		}
		rel, ok := v.prog.Relocations[pc]
		if !ok || rel.Map == nil || (rel.Kind != object.RelocMap && rel.Kind != object.RelocMapValue && rel.Kind != object.RelocKconfig) {
			continue
		}
		m := rel.Map
		if rel.Kind == object.RelocMapValue || rel.Kind == object.RelocKconfig {
			off := rel.Offset
			if off >= maxVarOff {
				return v.fail(pc, syscall.EINVAL, "direct value offset of "+strconv.FormatUint(uint64(off), 10)+" is not allowed")
			}
			if !m.IsArena() && off >= m.ValueSize {
				return v.fail(pc, syscall.EINVAL, "invalid access to map value pointer, value_size="+
					strconv.FormatUint(uint64(m.ValueSize), 10)+" off="+strconv.FormatUint(uint64(off), 10))
			}
			if size := uint64(m.MaxEntries) * 4096; m.IsArena() && (uint64(off) > size || uint64(off) == size && v.env.Kernel.ArenaValueOffsetBelowSize) {
				return v.fail(pc, syscall.ERANGE, "invalid access to map value pointer, value_size=0 off="+strconv.FormatUint(uint64(off), 10))
			}
		}
		if !m.IsArena() {
			continue
		}
		if v.arena != nil && v.arena != m {
			return v.fail(pc, syscall.EBUSY, "Only one arena per program")
		}
		if v.arena == nil {
			v.arena, v.arenaInsn = m, pc
			if !v.env.ArenaFixed {
				return v.fail(pc, syscall.EINVAL, "arena's user address must be set via map_extra or mmap()")
			}
		}
	}
	return nil
}

// checkSubprogs finds the functions (the entry, call targets, callback
// targets and the functions the object lists), and checks that jumps stay
// inside their function and that no function falls through into the next.
func (v *verifier) checkSubprogs() error {
	starts := map[int]bool{0: true}
	if v.prog != nil {
		for i := range v.prog.Funcs {
			f := &v.prog.Funcs[i]
			if f.Index >= 0 && f.Index < len(v.insns) {
				starts[f.Index] = true
				v.funcs[f.Index] = f
			}
		}
	}
	for pc, ins := range v.insns {
		if !ins.IsSubprogCall() && !ins.IsPseudoFunc() {
			continue
		}
		slot, _ := v.jumpSlot(pc)
		t, ok := v.slotTarget(slot)
		if slot < 0 || slot >= v.nslots || !ok {
			return v.fail(pc, syscall.EINVAL, "call to invalid destination")
		}
		starts[t] = true
	}
	for s := range starts {
		v.subStarts = append(v.subStarts, s)
	}
	sort.Ints(v.subStarts)
	v.prune = make([]bool, len(v.insns))
	for i, s := range v.subStarts {
		end := len(v.insns)
		if i+1 < len(v.subStarts) {
			end = v.subStarts[i+1]
		}
		v.prune[s] = true
		for pc := s; pc < end; pc++ {
			ins := v.insns[pc]
			if ins.IsCall() {
				if pc+1 < len(v.insns) {
					v.prune[pc+1] = true
				}
				continue
			}
			if !ins.IsJump() {
				continue
			}
			slot, _ := v.jumpSlot(pc)
			if slot < v.offs[s] || slot >= v.slotEnd(end) {
				return v.fail(pc, syscall.EINVAL, "jump out of range from insn "+strconv.Itoa(v.offs[pc])+" to "+strconv.Itoa(slot))
			}
			if t, ok := v.slotTarget(slot); ok {
				v.prune[t] = true
			}
			if ins.IsConditionalJump() && pc+1 < len(v.insns) {
				v.prune[pc+1] = true
			}
		}
		last := v.insns[end-1]
		if !last.IsExit() && !last.IsUnconditionalJump() {
			return v.fail(end-1, syscall.EINVAL, "last insn is not an exit or jmp")
		}
	}
	return nil
}

// slotEnd is the slot just past instruction index end-1.
func (v *verifier) slotEnd(end int) int {
	if end >= len(v.insns) {
		return v.nslots
	}
	return v.offs[end]
}

// subprogIndex is the kernel's number of the function starting at pc.
func (v *verifier) subprogIndex(pc int) int {
	return sort.SearchInts(v.subStarts, pc)
}

// funcName names the function starting at pc.
func (v *verifier) funcName(pc int) string {
	if f := v.funcs[pc]; f != nil {
		return f.Name
	}
	return ""
}

// checkCFG walks every edge from the entry (both ways at each branch, into
// called functions and callbacks) and rejects what cannot be reached.
func (v *verifier) checkCFG() error {
	n := len(v.insns)
	seen := make([]bool, n)
	stack := []int{0}
	seen[0] = true
	push := func(t int) {
		if t >= 0 && t < n && !seen[t] {
			seen[t] = true
			stack = append(stack, t)
		}
	}
	midLd := -1
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		ins := v.insns[pc]
		targets := func() {
			slot, ok := v.jumpSlot(pc)
			if !ok {
				return
			}
			if t, ok := v.slotTarget(slot); ok {
				push(t)
			} else if midLd < 0 {
				midLd = slot
			}
		}
		switch {
		case ins.IsExit():
		case ins.IsUnconditionalJump():
			targets()
		case ins.IsConditionalJump(), ins.IsSubprogCall(), ins.IsPseudoFunc():
			targets()
			push(pc + 1)
		default:
			push(pc + 1)
		}
	}
	for pc := range v.insns {
		if !seen[pc] {
			return v.fail(pc, syscall.EINVAL, "unreachable insn "+strconv.Itoa(v.offs[pc]))
		}
	}
	if midLd >= 0 {
		pc, _ := v.slotTarget(midLd - 1)
		return v.fail(pc, syscall.EINVAL, "jump into the middle of ldimm64 insn "+strconv.Itoa(midLd-1))
	}
	return nil
}

// kfuncName names the kfunc a call in the trace targets.
func (v *verifier) kfuncName(asm.Instruction) string {
	if rel, ok := v.prog.Relocations[v.tracePC]; ok && rel.Extern != nil {
		return rel.Extern.Name
	}
	return ""
}

// maxTrace bounds the instruction trace kept in the log, so that a long
// verification at a high log level cannot use unbounded memory.
const maxTrace = 16 << 20

// trace logs instruction pc, preceded by its source line when that
// changes, as the kernel does at log level 1.
func (v *verifier) trace(pc int) {
	if v.log.Len() > maxTrace {
		return
	}
	if lines := v.prog.Lines; len(lines) > 0 {
		i := sort.Search(len(lines), func(i int) bool { return lines[i].Index > pc }) - 1
		if i >= 0 && i != v.lastLine && lines[i].Index == pc {
			l := lines[i]
			same := v.lastLine >= 0 && lines[v.lastLine].File == l.File && lines[v.lastLine].Line == l.Line
			v.lastLine = i
			if !same {
				v.log.WriteString("; " + strings.TrimSpace(l.Source) + " @ " + filepath.Base(l.File) + ":" + strconv.Itoa(int(l.Line)) + "\n")
			}
		}
	}
	v.tracePC = pc
	v.log.WriteString(strconv.Itoa(v.offs[pc]) + ": " + v.fmt.Format(v.insns[pc]) + "\n")
}

// anyScalar is a number that may be any 64-bit value; its id lets a
// comparison of one copy bound the others.
func (v *verifier) anyScalar() value {
	v.nextID++
	return value{k: kScalar, wide: true, id: v.nextID}
}

// loaded is what a load of size bytes the pass does not follow gives: a
// number, any 64-bit one for a full-width load.
func (v *verifier) loaded(size int) value {
	if size == 8 {
		return v.anyScalar()
	}
	return value{k: kScalar, bits: uint8(size * 8)}
}
