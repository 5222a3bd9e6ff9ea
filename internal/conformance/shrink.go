package conformance

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

// flatProgram is a program with jump targets as instruction indices, so
// that instructions can be removed without breaking the jumps around them.
type flatProgram struct {
	insns  asm.Instructions
	target []int // index a jump goes to (len(insns) is the end), -1 if none
	relocs map[int]object.Relocation
}

// flatten turns the jump offsets of ps into target indices.
func flatten(ps *object.ProgramSpec) (*flatProgram, error) {
	insns := slices.Clone(ps.Instructions)
	offs := insns.Offsets()
	end := insns.SlotCount()
	fp := &flatProgram{insns: insns, target: make([]int, len(insns)), relocs: map[int]object.Relocation{}}
	for i, ins := range insns {
		fp.target[i] = -1
		if !ins.IsJump() && !ins.IsSubprogCall() {
			continue
		}
		rel, _ := ins.JumpTarget()
		slot := offs[i] + ins.Slots() + rel
		if slot == end {
			fp.target[i] = len(insns)
			continue
		}
		t, ok := asm.IndexOfSlot(offs, slot)
		if !ok {
			return nil, fmt.Errorf("instruction %d: jump to slot %d, not an instruction", i, slot)
		}
		fp.target[i] = t
	}
	for i, r := range ps.Relocations {
		fp.relocs[i] = r
	}
	return fp, nil
}

// without returns fp minus the instructions in [lo, hi). Jumps into the
// removed range go to the instruction after it.
func (fp *flatProgram) without(lo, hi int) *flatProgram {
	n := hi - lo
	out := &flatProgram{relocs: map[int]object.Relocation{}}
	for i, ins := range fp.insns {
		if i >= lo && i < hi {
			continue
		}
		t := fp.target[i]
		switch {
		case t >= hi:
			t -= n
		case t >= lo:
			t = lo
		}
		out.insns = append(out.insns, ins)
		out.target = append(out.target, t)
	}
	for i, r := range fp.relocs {
		switch {
		case i >= hi:
			out.relocs[i-n] = r
		case i < lo:
			out.relocs[i] = r
		}
	}
	return out
}

// clone copies fp, for editing one instruction of a candidate.
func (fp *flatProgram) clone() *flatProgram {
	out := &flatProgram{insns: slices.Clone(fp.insns), target: slices.Clone(fp.target), relocs: map[int]object.Relocation{}}
	for i, r := range fp.relocs {
		out.relocs[i] = r
	}
	return out
}

// encode sets the jump offsets from the targets. It fails when a jump
// would need an offset that does not fit.
func (fp *flatProgram) encode() (asm.Instructions, bool) {
	insns := slices.Clone(fp.insns)
	offs := insns.Offsets()
	end := insns.SlotCount()
	for i, t := range fp.target {
		if t < 0 {
			continue
		}
		slot := end
		if t < len(offs) {
			slot = offs[t]
		}
		rel := slot - (offs[i] + insns[i].Slots())
		if insns[i].OpCode == asm.OpGotoL || insns[i].IsSubprogCall() {
			insns[i].Constant = int64(rel)
			continue
		}
		if rel < -32768 || rel > 32767 {
			return nil, false
		}
		insns[i].Offset = int16(rel)
	}
	return insns, true
}

// withProgram returns a copy of spec whose only program has fp's
// instructions.
func withProgram(spec *object.Spec, fp *flatProgram) (*object.Spec, bool) {
	insns, ok := fp.encode()
	if !ok {
		return nil, false
	}
	ps := *spec.Programs[0]
	ps.Instructions = insns
	ps.Funcs = funcsOf(insns)
	out := *spec
	// Maps are mutated while a differential run loads them (MapExtra):
	// each candidate gets its own.
	out.Maps = nil
	mapOf := map[*object.MapSpec]*object.MapSpec{}
	for _, m := range spec.Maps {
		c := *m
		mapOf[m] = &c
		out.Maps = append(out.Maps, &c)
	}
	ps.Relocations = map[int]object.Relocation{}
	for i, r := range fp.relocs {
		if r.Map != nil {
			r.Map = mapOf[r.Map]
		}
		ps.Relocations[i] = r
	}
	out.Programs = []*object.ProgramSpec{&ps}
	return &out, true
}

// mismatchKind is the class of a mismatch line, so that shrinking keeps
// chasing the same difference rather than any difference.
func mismatchKind(m string) string {
	switch {
	case strings.HasPrefix(m, "load:"):
		return "load"
	case strings.Contains(m, "): retval"):
		// The step too: a difference on a later run is kept there.
		step, _, _ := strings.Cut(m, " (")
		return "retval, " + step
	case strings.Contains(m, "present on vm"):
		return "presence"
	case strings.HasPrefix(m, "arena page") && strings.Contains(m, "differs"):
		return "arena-bytes"
	case strings.Contains(m, "vm error"):
		return "run-error"
	case strings.HasPrefix(m, "global"):
		return "global"
	}
	return m
}

// Shrunk is a minimised mismatching program.
type Shrunk struct {
	Spec *object.Spec
	Diff *DiffReport
	// Kind is the class of mismatch that was kept while shrinking.
	Kind string
	// Tried is the number of candidate programs run.
	Tried int
}

// Shrink minimises a program whose engines disagree: it removes
// instructions and simplifies constants for as long as the kernel still
// loads the program and the first kind of mismatch persists. budget bounds
// the candidates tried (0: 3000).
func Shrink(spec *object.Spec, steps []Step, first *DiffReport, budget int) (*Shrunk, error) {
	if budget <= 0 {
		budget = 3000
	}
	if first == nil || first.OK() {
		return nil, fmt.Errorf("shrink: the program does not mismatch")
	}
	kind := mismatchKind(first.Mismatches[0])
	fp, err := flatten(spec.Programs[0])
	if err != nil {
		return nil, err
	}
	best := &Shrunk{Spec: spec, Diff: first, Kind: kind}
	// Removing an instruction can let the upper half of an arena address,
	// which differs between the engines by construction, into the result.
	// The vm shows that by giving another result when its arena moves; a
	// program the vm runs that way from the start is left unchecked.
	placement := placementStable(spec, steps)
	try := func(c *flatProgram) bool {
		if best.Tried >= budget {
			return false
		}
		if readsUnwrittenStack(c.insns) || !loopsBounded(c.insns) || mapPointerLeaks(c.insns, c.relocs) {
			// Privileged programs may read stack never written and get
			// whatever the kernel left there, run a loop until the
			// kernel's may_goto clock says stop, or mix a map's kernel
			// address into their result: none is a difference to chase.
			return false
		}
		cs, ok := withProgram(spec, c)
		if !ok {
			return false
		}
		best.Tried++
		d, err := differential(cs, steps)
		if err != nil || d.OK() {
			return false
		}
		if placement && !placementStable(cs, steps) {
			return false
		}
		for _, m := range d.Mismatches {
			if mismatchKind(m) == kind {
				best.Spec, best.Diff = cs, d
				return true
			}
		}
		return false
	}

	for changed := true; changed && best.Tried < budget; {
		changed = false
		// Remove chunks, large first, from the end backwards: the
		// epilogue and later code depend on the earlier code, not the
		// other way round.
		for size := len(fp.insns) / 2; size >= 1; size /= 2 {
			// The last instruction is the exit: keep it.
			for hi := len(fp.insns) - 1; hi-size >= 0; {
				lo := hi - size
				if hasExit(fp.insns[lo:hi]) {
					// Without an exit, one function runs on into the
					// next: a different program, not a smaller one.
					hi -= size
					continue
				}
				if c := fp.without(lo, hi); try(c) {
					fp = c
					changed = true
					hi = lo
					continue
				}
				hi -= size
			}
		}
		// Simplify constants and offsets, but not the arguments of kfunc
		// calls: a page count of 0 or a NULL address leads to other
		// differences than the one being chased.
		args := kfuncArgs(fp.insns)
		for i := range fp.insns {
			if args[i] {
				continue
			}
			for _, c := range simpler(fp.insns[i], fp.relocs[i]) {
				cand := fp.clone()
				cand.insns[i] = c
				if try(cand) {
					fp = cand
					changed = true
					break
				}
			}
		}
	}
	return best, nil
}

// placementStable reports whether the vm gives the same retvals and arena
// contents (pointers translated) with the arena at two addresses that
// differ in their upper 32 bits only.
func placementStable(spec *object.Spec, steps []Step) bool {
	var runs [2]struct {
		c   *bpfarena.Collection
		ret []uint32
	}
	for i, extra := range []uint64{0x100040000000, 0x300040000000} {
		cs, _ := withProgram(spec, mustFlatten(spec.Programs[0]))
		cs.Arena().MapExtra = extra
		c, err := bpfarena.Load(cs, bpfarena.Options{Engine: bpfarena.VM})
		if err != nil {
			return false
		}
		defer c.Close()
		runs[i].c = c
		for _, st := range steps {
			r, err := c.Program(st.Program).Test(bpfarena.RunOptions{Context: st.Context, Data: st.Data})
			if err != nil {
				return false
			}
			runs[i].ret = append(runs[i].ret, r.Retval)
		}
	}
	if !slices.Equal(runs[0].ret, runs[1].ret) {
		return false
	}
	a, b := runs[0].c.Arena(), runs[1].c.Arena()
	rep := &DiffReport{}
	compareArenas(rep, a, b, translator{vStart: a.Start(), kStart: b.Start(), size: a.Size()})
	return rep.OK()
}

// mustFlatten is flatten for programs known to be well formed (ones that
// loaded already).
func mustFlatten(ps *object.ProgramSpec) *flatProgram {
	fp, err := flatten(ps)
	if err != nil {
		panic(err)
	}
	return fp
}

// readsUnwrittenStack reports whether insns read a stack byte that no
// store before the first branch wrote. Generated programs write every
// stack slot they read in the prologue, which has no branches; removing
// such a store leaves reads of whatever the kernel's stack held.
func readsUnwrittenStack(insns asm.Instructions) bool {
	// Each function has its own frame: its reads count only its writes.
	fs := funcsOf(insns)
	for k, f := range fs {
		end := len(insns)
		if k+1 < len(fs) {
			end = fs[k+1].Index
		}
		if frameReadsUnwritten(insns[f.Index:end]) {
			return true
		}
	}
	return false
}

// frameReadsUnwritten is readsUnwrittenStack for one function.
func frameReadsUnwritten(insns asm.Instructions) bool {
	// Jump targets as instruction indices, to tell which writes a path
	// can skip.
	offs := insns.Offsets()
	type edge struct{ from, to int }
	var jumps []edge
	for i, ins := range insns {
		if ins.IsJump() {
			if t, ok := insns.Target(offs, i); ok {
				jumps = append(jumps, edge{i, t})
			} else {
				// A target outside the function (the shrinker checks
				// nothing else): count it as skipping everything.
				jumps = append(jumps, edge{i, len(insns)})
			}
		}
	}
	// skipped reports whether some path from the start reaches r without
	// passing w: a jump from before w to after it, up to r.
	skipped := func(w, r int) bool {
		for _, e := range jumps {
			if e.from < w && e.to > w && e.to <= r {
				return true
			}
		}
		return false
	}
	var writes [512][]int
	for i, ins := range insns {
		n := ins.OpCode.Size().Bytes()
		var reads, writesMem bool
		switch {
		case ins.Class() == asm.ClassLDX && ins.Src == asm.R10:
			reads = true
		case ins.IsAtomic() && ins.AtomicOp() == asm.AtomicLoadAcquire:
			reads = ins.Src == asm.R10
		case ins.IsAtomic() && ins.Dst == asm.R10:
			reads, writesMem = ins.AtomicOp() != asm.AtomicStoreRelease, true
		case (ins.Class() == asm.ClassST || ins.Class() == asm.ClassSTX) && ins.Dst == asm.R10:
			writesMem = true
		}
		lo := 512 + int(ins.Offset)
		if !reads && !writesMem || lo < 0 || lo+n > 512 {
			continue
		}
		if reads {
			for b := lo; b < lo+n; b++ {
				ok := false
				for _, w := range writes[b] {
					if !skipped(w, i) {
						ok = true
						break
					}
				}
				if !ok {
					return true
				}
			}
		}
		if writesMem {
			for b := lo; b < lo+n; b++ {
				writes[b] = append(writes[b], i)
			}
		}
	}
	return false
}

// differential is Differential with the vm rejecting a program turned
// into a mismatch, and with the page presence the kernel engine cannot
// know left out.
func differential(spec *object.Spec, steps []Step) (*DiffReport, error) {
	d, err := Differential(spec, steps)
	if err != nil {
		if _, ok := kernelRejection(err); ok {
			return nil, err
		}
		if strings.HasPrefix(err.Error(), "vm: ") {
			// The kernel took the program and the vm did not: that is an
			// engine difference like any other.
			return &DiffReport{Mismatches: []string{"load: " + err.Error()}}, nil
		}
		return nil, err
	}
	if usesReserve(spec) {
		// The kernel has no query for page presence: its engine takes a
		// page that a program reserved, and that reads zero, for an
		// allocated one. Such mismatches say nothing about the vm.
		kept := d.Mismatches[:0]
		for _, m := range d.Mismatches {
			if !strings.HasSuffix(m, "present on vm false, on kernel true") {
				kept = append(kept, m)
			}
		}
		d.Mismatches = kept
	}
	return d, nil
}

// usesReserve reports whether spec calls bpf_arena_reserve_pages.
func usesReserve(spec *object.Spec) bool {
	for _, e := range spec.Externs {
		if e.Name == "bpf_arena_reserve_pages" {
			return true
		}
	}
	return false
}

// loopsBounded reports whether every loop (a jump back) holds a
// conditional jump out of it on a register the loop changes: the
// counter the generator gives its may_goto loops.
func loopsBounded(insns asm.Instructions) bool {
	offs := insns.Offsets()
	for i, ins := range insns {
		t, ok := insns.Target(offs, i)
		if !ok || t > i || !ins.IsJump() {
			continue
		}
		bounded := false
		for j := t; j < i && !bounded; j++ {
			c := insns[j]
			if !c.IsConditionalJump() || c.IsMayGoto() {
				continue
			}
			if out, ok := insns.Target(offs, j); !ok || out <= i {
				continue
			}
			for k := t; k < i; k++ {
				if w := insns[k]; w.IsALU() && w.Dst == c.Dst && w.ALUOp() != asm.ALUMov {
					bounded = true
				}
			}
		}
		if !bounded {
			return false
		}
	}
	return true
}

// mapPointerLeaks reports whether a map's address, loaded for a kfunc
// call, is used by anything but the call: its value is a kernel address
// on one engine and a made-up one on the other.
func mapPointerLeaks(insns asm.Instructions, relocs map[int]object.Relocation) bool {
	for i, ins := range insns {
		if r, ok := relocs[i]; !ok || r.Kind != object.RelocMap {
			continue
		}
		d := ins.Dst
		for _, n := range insns[i+1:] {
			if n.IsCall() || n.IsJump() || n.IsExit() {
				// A call takes it as an argument and clobbers it; a jump
				// or exit ends the straight run this check follows.
				if n.IsKfuncCall() || n.IsSubprogCall() {
					break
				}
				if n.IsExit() && d == asm.R0 || n.IsJump() && (n.Dst == d || n.OpCode.Source() == asm.SourceX && n.Src == d) {
					return true
				}
				break
			}
			if reads(n, d) {
				return true
			}
			if n.Dst == d && (n.IsALU() && n.ALUOp() == asm.ALUMov || n.Class() == asm.ClassLDX || n.IsLoadImm64()) {
				break // overwritten
			}
		}
	}
	return false
}

// reads reports whether ins reads register r.
func reads(ins asm.Instruction, r asm.Register) bool {
	switch c := ins.Class(); {
	case c.IsALU():
		if ins.OpCode.Source() == asm.SourceX && ins.Src == r && !ins.IsByteSwap() {
			return true
		}
		return ins.Dst == r && ins.ALUOp() != asm.ALUMov
	case c == asm.ClassLDX:
		return ins.Src == r
	case c == asm.ClassST:
		return ins.Dst == r
	case c == asm.ClassSTX:
		return ins.Dst == r || ins.Src == r || ins.IsAtomic() && ins.AtomicOp() == asm.AtomicCmpXchg && r == asm.R0
	}
	return false
}

// hasExit reports whether insns hold an exit.
func hasExit(insns asm.Instructions) bool {
	for _, ins := range insns {
		if ins.IsExit() {
			return true
		}
	}
	return false
}

// kfuncArgs marks the instructions that set up the arguments of a kfunc
// call: those writing r1-r5 in the straight run of code before it.
func kfuncArgs(insns asm.Instructions) map[int]bool {
	args := map[int]bool{}
	for c, ins := range insns {
		if !ins.IsKfuncCall() {
			continue
		}
		for i := c - 1; i >= 0 && c-i <= 8; i-- {
			p := insns[i]
			if p.IsCall() || p.IsJump() || p.IsExit() {
				break
			}
			if p.Dst >= asm.R1 && p.Dst <= asm.R5 && (p.IsALU() || p.IsLoadImm64()) {
				args[i] = true
			}
		}
	}
	return args
}

// simpler returns variants of ins with smaller constants, simplest first.
func simpler(ins asm.Instruction, r object.Relocation) []asm.Instruction {
	if r.Kind != 0 || ins.IsCall() || ins.IsExit() || ins.IsJump() || ins.IsAddrSpaceCast() || ins.IsByteSwap() {
		return nil
	}
	var out []asm.Instruction
	add := func(c asm.Instruction) {
		if c != ins && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	hasConst := !ins.IsAtomic() && (ins.Class() == asm.ClassST || ins.IsLoadImm64() ||
		ins.IsALU() && ins.OpCode.Source() == asm.SourceK && ins.ALUOp() != asm.ALUNeg && ins.ALUOp() != asm.ALUEnd)
	if hasConst {
		for _, v := range []int64{0, ins.Constant / 2, int64(int32(ins.Constant))} {
			c := ins
			c.Constant = v
			if ins.IsLoadImm64() && v == int64(int32(v)) {
				// A constant that fits is a plain mov.
				c = asm.Instruction{OpCode: opMovK, Dst: ins.Dst, Constant: v}
			}
			add(c)
		}
	}
	if ins.Class() <= asm.ClassSTX && !ins.IsLoadImm64() && ins.Offset != 0 {
		// Atomics stay aligned: a locked access split over two cache
		// lines is one the kernel may refuse to run.
		align := int16(1)
		if ins.IsAtomic() {
			align = int16(ins.OpCode.Size().Bytes())
		}
		for _, off := range []int16{0, ins.Offset / 2 &^ (align - 1), ins.Offset &^ 0xfff} {
			c := ins
			c.Offset = off
			add(c)
		}
	}
	return out
}

// --- printing -------------------------------------------------------------

var regNames = []string{"asm.R0", "asm.R1", "asm.R2", "asm.R3", "asm.R4", "asm.R5", "asm.R6", "asm.R7", "asm.R8", "asm.R9", "asm.R10"}

// GoCase prints a program as a table entry for TestRandomRegressions:
// instructions as raw fields, each with its text, and relocations by name.
// runs is the number of times the program runs.
func GoCase(name string, spec *object.Spec, runs int, d *DiffReport) string {
	var b strings.Builder
	ps := spec.Programs[0]
	fmt.Fprintf(&b, "{\n\tname: %q,\n", name)
	if d != nil {
		for _, m := range d.Mismatches {
			fmt.Fprintf(&b, "\t// %s\n", m)
		}
	}
	b.WriteString("\tinsns: asm.Instructions{\n")
	f := asm.Formatter{Kfunc: func(ins asm.Instruction) string { return "" }}
	offs := ps.Instructions.Offsets()
	for i, ins := range ps.Instructions {
		fmt.Fprintf(&b, "\t\t{OpCode: %#02x", uint8(ins.OpCode))
		if ins.Dst != 0 {
			fmt.Fprintf(&b, ", Dst: %s", regNames[ins.Dst&0xf])
		}
		switch {
		case ins.Src == 0:
		case ins.IsLoadImm64() && ins.Src == asm.PseudoMapFD:
			b.WriteString(", Src: asm.PseudoMapFD")
		case ins.IsKfuncCall():
			b.WriteString(", Src: asm.PseudoKfuncCall")
		default:
			fmt.Fprintf(&b, ", Src: %s", regNames[ins.Src&0xf])
		}
		if ins.Offset != 0 {
			fmt.Fprintf(&b, ", Offset: %d", ins.Offset)
		}
		if ins.Constant != 0 {
			fmt.Fprintf(&b, ", Constant: %s", goConst(ins.Constant))
		}
		text := f.Format(ins)
		if r, ok := ps.Relocations[i]; ok {
			text = relocText(ins, r, text)
		}
		fmt.Fprintf(&b, "}, // %d: %s\n", offs[i], text)
	}
	b.WriteString("\t},\n")
	if len(ps.Relocations) > 0 {
		keys := make([]int, 0, len(ps.Relocations))
		for i := range ps.Relocations {
			keys = append(keys, i)
		}
		sort.Ints(keys)
		b.WriteString("\trelocs: map[int]string{")
		for j, i := range keys {
			if j > 0 {
				b.WriteString(", ")
			}
			r := ps.Relocations[i]
			name := relocName(r)
			if r.Kind == object.RelocMapValue {
				name += "+" + fmt.Sprint(r.Offset)
			}
			fmt.Fprintf(&b, "%d: %q", i, name)
		}
		b.WriteString("},\n")
	}
	if a := spec.Arena(); a != nil && a.MaxEntries != 16 {
		fmt.Fprintf(&b, "\tpages: %d,\n", a.MaxEntries)
	}
	if a := spec.Arena(); a != nil && a.Flags&object.FlagNoUserConv != 0 {
		b.WriteString("\tflags: object.FlagNoUserConv,\n")
	}
	if a := spec.Arena(); a != nil && len(a.Contents) > 0 {
		// Trailing zeros as a make, the rest as bytes.
		n := len(a.Contents)
		for n > 0 && a.Contents[n-1] == 0 {
			n--
		}
		b.WriteString("\tcontents: append([]byte{")
		for i, c := range a.Contents[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%#02x", c)
		}
		fmt.Fprintf(&b, "}, make([]byte, %d)...),\n", len(a.Contents)-n)
	}
	if runs > 1 {
		fmt.Fprintf(&b, "\truns: %d,\n", runs)
	}
	b.WriteString("},\n")
	return b.String()
}

// goConst prints a constant in decimal when small, in hex otherwise.
func goConst(v int64) string {
	if v >= -4096 && v <= 4096 {
		return fmt.Sprint(v)
	}
	if v < 0 {
		return fmt.Sprintf("-%#x", uint64(-v))
	}
	return fmt.Sprintf("%#x", v)
}

// relocName is the map or extern a relocation names.
func relocName(r object.Relocation) string {
	if r.Extern != nil {
		return r.Extern.Name
	}
	if r.Map != nil {
		return r.Map.Name
	}
	return r.Symbol
}

// relocText is the text of a relocated instruction, with the name of
// what it refers to in place of the number the encoding holds.
func relocText(ins asm.Instruction, r object.Relocation, text string) string {
	switch r.Kind {
	case object.RelocMap:
		return fmt.Sprintf("r%d = map[%s]", ins.Dst, relocName(r))
	case object.RelocMapValue:
		return fmt.Sprintf("r%d = map[%s]+%d", ins.Dst, relocName(r), r.Offset)
	case object.RelocKfunc:
		return "call " + relocName(r)
	}
	return text
}

// SpecFromCase builds the object of a GoCase table entry: the arena map
// and one sleepable syscall program named RandomProgram. relocs names,
// by instruction index, the map ("arena"), the map value at an offset
// ("arena+8192") or the kfunc an instruction refers to. pages is the
// arena's size (0: 16), flags its flags besides BPF_F_MMAPABLE, and
// contents the initial image of its globals.
func SpecFromCase(insns asm.Instructions, relocs map[int]string, pages, flags uint32, contents []byte) *object.Spec {
	if pages == 0 {
		pages = 16
	}
	am := &object.MapSpec{Name: "arena", Type: object.Arena, MaxEntries: pages, Flags: object.FlagMmapable | flags,
		Section: ".maps", Contents: slices.Clone(contents)}
	spec := &object.Spec{Path: "random.bpf.o", License: "GPL", Maps: []*object.MapSpec{am}}
	ext := map[string]*object.ExternSpec{}
	rel := map[int]object.Relocation{}
	for i, name := range relocs {
		if name == am.Name {
			rel[i] = object.Relocation{Kind: object.RelocMap, Map: am, Symbol: name}
			continue
		}
		if off, ok := strings.CutPrefix(name, am.Name+"+"); ok {
			n, _ := strconv.ParseUint(off, 10, 32)
			rel[i] = object.Relocation{Kind: object.RelocMapValue, Map: am, Offset: uint32(n), Symbol: am.Name}
			continue
		}
		e, ok := ext[name]
		if !ok {
			e = &object.ExternSpec{Name: name, Kind: object.ExternKfunc}
			ext[name] = e
			spec.Externs = append(spec.Externs, e)
		}
		rel[i] = object.Relocation{Kind: object.RelocKfunc, Extern: e, Symbol: name}
	}
	spec.Programs = []*object.ProgramSpec{{
		Name: RandomProgram, Section: "syscall", Type: object.Syscall,
		Sleepable: true, Flags: object.ProgFlagSleepable, License: "GPL",
		Instructions: slices.Clone(insns), Relocations: rel, Funcs: funcsOf(insns),
	}}
	return spec
}

var (
	pcRel    = regexp.MustCompile(`pc([+-]\d+)$`)
	memOff   = regexp.MustCompile(`\(r(\d+) ([+-]\d+)\)`)
	jumpImm  = regexp.MustCompile(`^if ([rw]\d+) (\S+) (0x[0-9a-f]+) goto`)
	atomicRe = regexp.MustCompile(`^r(\d+) = atomic(64)?_(\w+)\(\((u\d+) \*\)\(r(\d+) ([+-]\d+)\), r(\d+)(?:, r(\d+))?\)$`)
)

// CCase prints a program as a BPF C file: the arena map and a naked
// function in inline assembly, the form the kernel selftests use, for
// clang-19 or newer with -mcpu=v4 and bpf/include on the include path.
// It returns "" for a program that loads the arena's map value, which C
// can only express with arena globals, which would change the arena.
func CCase(spec *object.Spec) string {
	ps := spec.Programs[0]
	for _, r := range ps.Relocations {
		if r.Kind == object.RelocMapValue {
			return ""
		}
	}
	pages, flags := uint32(16), "BPF_F_MMAPABLE"
	if a := spec.Arena(); a != nil {
		pages = a.MaxEntries
		if a.Flags&object.FlagNoUserConv != 0 {
			flags += " | (1U << 18) /* BPF_F_NO_USER_CONV */"
		}
	}
	insns := ps.Instructions
	offs := insns.Offsets()
	labels := map[int]string{}
	for i, ins := range insns {
		if rel, ok := ins.JumpTarget(); ok {
			slot := offs[i] + ins.Slots() + rel
			if _, ok := labels[slot]; !ok {
				labels[slot] = fmt.Sprintf("l%d_%%=", len(labels))
			}
		}
	}
	var f asm.Formatter
	var b strings.Builder
	imms := map[string]string{}
	b.WriteString(cPreamble)
	if a := spec.Arena(); a != nil && len(a.Contents) > 0 {
		// The arena globals' image: one array at the arena's start.
		fmt.Fprintf(&b, "__attribute__((used, aligned(8))) unsigned char __arena globals[%d] = {", len(a.Contents))
		n := len(a.Contents)
		for n > 0 && a.Contents[n-1] == 0 {
			n--
		}
		for i, c := range a.Contents[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%#02x", c)
		}
		b.WriteString("};\n\n")
	}
	fmt.Fprintf(&b, "struct {\n\t__uint(type, BPF_MAP_TYPE_ARENA);\n\t__uint(map_flags, %s);\n\t__uint(max_entries, %d);\n} arena SEC(\".maps\");\n\n", flags, pages)
	b.WriteString("SEC(\"syscall\")\n__naked int rnd(void *ctx)\n{\n\tasm volatile (\n")
	for i, ins := range insns {
		if l, ok := labels[offs[i]]; ok {
			fmt.Fprintf(&b, "\t\"%s:\"\n", l)
		}
		// % introduces an operand in inline assembly: mod is %%.
		text := strings.ReplaceAll(cText(f.Format(ins), ins), "%", "%%")
		if r, ok := ps.Relocations[i]; ok {
			name := relocName(r)
			switch r.Kind {
			case object.RelocMap:
				text = fmt.Sprintf("r%d = %%[%s] ll", ins.Dst, name)
				imms[name] = "__imm_addr(" + name + ")"
			case object.RelocKfunc:
				text = fmt.Sprintf("call %%[%s]", name)
				imms[name] = "__imm(" + name + ")"
			}
		}
		if rel, ok := ins.JumpTarget(); ok {
			text = pcRel.ReplaceAllString(text, labels[offs[i]+ins.Slots()+rel])
		}
		fmt.Fprintf(&b, "\t\"%s;\"\n", text)
	}
	if l, ok := labels[insns.SlotCount()]; ok {
		fmt.Fprintf(&b, "\t\"%s:\"\n", l)
	}
	b.WriteString("\t:\n\t: ")
	names := make([]string, 0, len(imms))
	for n := range imms {
		names = append(names, n)
	}
	sort.Strings(names)
	for j, n := range names {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(imms[n])
	}
	b.WriteString("\n\t: __clobber_all);\n}\n\nchar _license[] SEC(\"license\") = \"GPL\";\n")
	return b.String()
}

// cPreamble declares what the inline assembly names, as the kernel
// selftests' bpf_misc.h does.
const cPreamble = `// SPDX-License-Identifier: Apache-2.0
#include "bpfarena.h"

#ifndef __imm
#define __imm(name) [name] "i"(name)
#define __imm_addr(name) [name] "i"(&name)
#define __clobber_all "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory"
#endif

/* Inline assembly only names the kfuncs; these calls from C make clang
 * describe them in BTF. The function is never loaded. */
void __kfunc_btf_root(void)
{
	bpf_arena_alloc_pages(0, 0, 0, 0, 0);
	bpf_arena_free_pages(0, 0, 0);
	bpf_arena_reserve_pages(0, 0, 0);
}

`

// cText turns the verifier-log text of ins into clang's assembler syntax
// where the two differ.
func cText(text string, ins asm.Instruction) string {
	text = memOff.ReplaceAllStringFunc(text, func(s string) string {
		m := memOff.FindStringSubmatch(s)
		return fmt.Sprintf("(r%s %s %s)", m[1], m[2][:1], m[2][1:])
	})
	if ins.IsLoadImm64() {
		return text + " ll"
	}
	if m := jumpImm.FindStringSubmatch(text); m != nil {
		return strings.Replace(text, m[3], fmt.Sprint(int32(ins.Constant)), 1)
	}
	if ins.IsAtomic() && ins.AtomicOp().IsFetch() {
		reg := byte('r')
		sfx := "_64"
		if ins.OpCode.Size() == asm.SizeW {
			reg, sfx = 'w', "_32"
		}
		base := fmt.Sprintf("r%d %s %d", ins.Dst, sign(ins.Offset), abs16(ins.Offset))
		typ := "u64"
		if reg == 'w' {
			typ = "u32"
		}
		switch op := ins.AtomicOp(); op {
		case asm.AtomicXchg:
			x := "xchg"
			if reg == 'w' {
				x = "xchg32"
			}
			return fmt.Sprintf("%c%d = %s%s(%s, %c%d)", reg, ins.Src, x, sfx, base, reg, ins.Src)
		case asm.AtomicCmpXchg:
			x := "cmpxchg"
			if reg == 'w' {
				x = "cmpxchg32"
			}
			return fmt.Sprintf("%c0 = %s%s(%s, %c0, %c%d)", reg, x, sfx, base, reg, reg, ins.Src)
		default:
			return fmt.Sprintf("%c%d = atomic_%s((%s *)(%s), %c%d)", reg, ins.Src, op, typ, base, reg, ins.Src)
		}
	}
	if ins.IsAtomic() && ins.OpCode.Size() == asm.SizeW && ins.AtomicOp() < asm.AtomicLoadAcquire {
		// lock *(u32 *)(r1 + 0) += w2
		i := strings.LastIndex(text, "r")
		return text[:i] + "w" + text[i+1:]
	}
	if ins.IsAtomic() && (ins.AtomicOp() == asm.AtomicLoadAcquire || ins.AtomicOp() == asm.AtomicStoreRelease) {
		// clang-19 does not know these: the raw encoding, as the kernel
		// selftests write instructions their compiler lacks.
		return fmt.Sprintf(".8byte %#016x /* %s */", binary.LittleEndian.Uint64(ins.Encode(nil)), text)
	}
	return text
}

func sign(v int16) string {
	if v < 0 {
		return "-"
	}
	return "+"
}

func abs16(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}
