package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/object"
)

// Step is one program run of a differential test.
type Step struct {
	Program string
	Context []byte
	Data    []byte
}

// DiffReport is what a differential run found.
type DiffReport struct {
	// Retvals per step: [step][0] is the vm's, [step][1] the kernel's.
	Retvals [][2]uint32
	// Mismatches, empty when the engines agree.
	Mismatches []string
	// PagesCompared is how many present arena pages were compared.
	PagesCompared int
	// SameAddress is true when both arenas sat at the same address, so
	// memory was compared byte for byte.
	SameAddress bool
}

// OK reports whether the engines agreed.
func (r *DiffReport) OK() bool { return len(r.Mismatches) == 0 }

func (r *DiffReport) addf(format string, args ...any) {
	if len(r.Mismatches) < 50 {
		r.Mismatches = append(r.Mismatches, fmt.Sprintf(format, args...))
	}
}

// snapshot is what one engine left behind after the steps.
type snapshot struct {
	results []stepResult
	globals map[string][]byte
	// unreadable are globals the engine keeps no mapping of.
	unreadable map[string]bool
	start      uint64 // arena user_vm_start, 0 without an arena
	size       uint64
	pages      map[uint32][]byte // present arena pages by page offset
}

type stepResult struct {
	retval  uint32
	dataOut []byte
	err     error
}

// Differential runs the steps in order on the kernel and then on the vm
// (state carries over between steps, as in `bpfarena run`), and compares
// every retval, every global and every present arena page.
//
// The kernel goes first and is closed before the vm loads, so the vm's
// arena can take the very address the kernel's had: arena pointers stored
// in memory then compare byte for byte. Should that address be taken in
// the meantime, the vm's arena goes elsewhere and 64-bit words that point
// into the respective arenas compare by their offset.
//
// The error wraps bpfarena.ErrNotSupported when the kernel engine cannot
// run here.
func Differential(spec *object.Spec, steps []Step) (*DiffReport, error) {
	progs := stepPrograms(spec, steps)
	ks, err := runSnapshot(spec, bpfarena.Kernel, progs, steps)
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	vs, err := runBeside(spec, ks.start, progs, steps)
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	return compareSnapshots(spec, steps, vs, ks), nil
}

// runBeside runs the steps on the vm with its arena at kstart, where the
// kernel's was. Should something else have taken that address since, it
// tries addresses with the same low 32 bits (so 32-bit arena pointers
// still compare equal and 64-bit ones differ by a known distance), and
// last any address.
func runBeside(spec *object.Spec, kstart uint64, progs []string, steps []Step) (*snapshot, error) {
	am := spec.Arena()
	if am == nil || kstart == 0 || am.MapExtra != 0 {
		return runSnapshot(spec, bpfarena.VM, progs, steps)
	}
	cands := []uint64{kstart}
	for k := uint64(1); k <= 8; k++ {
		// Stay within the 47-bit x86-64 user address space.
		if c := (kstart + k<<36) % (1 << 47); c >= 1<<32 {
			cands = append(cands, c)
		}
	}
	vspec := spec.Copy()
	var firstErr error
	for _, c := range cands {
		vspec.Arena().MapExtra = c
		s, err := runSnapshot(vspec, bpfarena.VM, progs, steps)
		if err == nil {
			return s, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if s, err := runSnapshot(spec, bpfarena.VM, progs, steps); err == nil {
		return s, nil
	}
	return nil, firstErr
}

// HostKernel is the Options.Kernel that makes the vm model the running
// kernel, for comparisons with it: "host" where the running kernel is
// modelled, else "" (the newest model).
func HostKernel() string {
	if s, ok := HostModelled(); ok {
		return s
	}
	return ""
}

// HostModelled reports whether the vm models the running kernel, so
// that the engines' results can be compared: "host" and true where it
// does.
func HostModelled() (string, bool) {
	if _, err := kversion.Parse("host"); err == nil {
		return "host", true
	}
	return "", false
}

func runSnapshot(spec *object.Spec, eng bpfarena.Engine, progs []string, steps []Step) (*snapshot, error) {
	kernel := ""
	if eng == bpfarena.VM {
		kernel = HostKernel()
	}
	coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng, Programs: progs, Kernel: kernel})
	if err != nil {
		return nil, err
	}
	defer coll.Close()
	s := &snapshot{globals: map[string][]byte{}, unreadable: map[string]bool{}}
	for _, st := range steps {
		res, err := coll.Program(st.Program).Test(bpfarena.RunOptions{Context: st.Context, Data: st.Data})
		if err != nil {
			s.results = append(s.results, stepResult{err: err})
			continue
		}
		s.results = append(s.results, stepResult{retval: res.Retval, dataOut: res.DataOut})
	}
	for _, v := range coll.Variables() {
		if v.Spec.Map != nil && v.Spec.Map.IsArena() {
			continue // compared with the arena pages
		}
		b, err := v.Read()
		if errors.Is(err, bpfarena.ErrNotFound) {
			// Not mapped where it is not mmapable (a section of
			// hidden variables on the kernel engine): not compared.
			s.unreadable[v.Spec.Name] = true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("global %s: %w", v.Spec.Name, err)
		}
		s.globals[v.Spec.Name] = b
	}
	if a := coll.Arena(); a != nil {
		if eng == bpfarena.Kernel {
			// Frees a kernel defers (7.3, from a non-sleepable
			// context) run in a worker after the program returns; let
			// it run before the pages are counted.
			time.Sleep(50 * time.Millisecond)
		}
		s.start, s.size = a.Start(), a.Size()
		if s.pages, err = arenaPages(a); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// arenaPages copies every present page of a.
func arenaPages(a *arena.Arena) (map[uint32][]byte, error) {
	pages := map[uint32][]byte{}
	for pg := uint32(0); pg < a.Pages(); pg++ {
		addr := a.Start() + uint64(pg)*arena.PageSize
		if !a.Present(addr) {
			continue
		}
		b, err := a.Bytes(addr, arena.PageSize)
		if err != nil {
			return nil, fmt.Errorf("arena page %d: %w", pg, err)
		}
		pages[pg] = bytes.Clone(b)
	}
	return pages, nil
}

// compareArenas compares the present pages of two live arenas.
func compareArenas(rep *DiffReport, va, ka *arena.Arena, tr translator) {
	vp, err1 := arenaPages(va)
	kp, err2 := arenaPages(ka)
	if err1 != nil || err2 != nil {
		rep.addf("arena: %v / %v", err1, err2)
		return
	}
	comparePages(rep, &snapshot{start: va.Start(), size: va.Size(), pages: vp}, &snapshot{start: ka.Start(), size: ka.Size(), pages: kp}, tr)
}

// stepPrograms lists the programs the steps run, and the programs the
// object's program arrays hold, which must load with them.
func stepPrograms(spec *object.Spec, steps []Step) []string {
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, s := range steps {
		add(s.Program)
	}
	for _, m := range spec.Maps {
		if m.Type == object.ProgArray {
			for _, s := range m.Slots {
				add(s.Name)
			}
		}
	}
	return out
}

func compareSnapshots(spec *object.Spec, steps []Step, vs, ks *snapshot) *DiffReport {
	rep := &DiffReport{SameAddress: vs.start == ks.start}
	tr := translator{vStart: vs.start, kStart: ks.start, size: ks.size}
	for i, st := range steps {
		v, k := vs.results[i], ks.results[i]
		rep.Retvals = append(rep.Retvals, [2]uint32{v.retval, k.retval})
		switch {
		case (v.err == nil) != (k.err == nil):
			rep.addf("step %d (%s): vm error %v, kernel error %v", i, st.Program, v.err, k.err)
		case v.err != nil:
		case v.retval != k.retval:
			rep.addf("step %d (%s): retval vm %d (%#x), kernel %d (%#x)", i, st.Program, int32(v.retval), v.retval, int32(k.retval), k.retval)
		case !bytes.Equal(v.dataOut, k.dataOut):
			rep.addf("step %d (%s): packet out differs: vm %x, kernel %x", i, st.Program, v.dataOut, k.dataOut)
		}
	}
	for _, v := range spec.Variables {
		vb, vok := vs.globals[v.Name]
		kb, kok := ks.globals[v.Name]
		if !vok && !kok || vs.unreadable[v.Name] || ks.unreadable[v.Name] {
			continue
		}
		if off, ok := tr.equal(vb, kb); !ok {
			rep.addf("global %s (%s+%d): differs at byte %d: vm %x, kernel %x", v.Name, v.Section, v.Offset, off, vb, kb)
		}
	}
	if (vs.start == 0) != (ks.start == 0) {
		rep.addf("arena: vm has one: %v, kernel has one: %v", vs.start != 0, ks.start != 0)
		return rep
	}
	comparePages(rep, vs, ks, tr)
	return rep
}

// comparePages compares the arena pages of two snapshots.
func comparePages(rep *DiffReport, vs, ks *snapshot, tr translator) {
	if vs.size != ks.size {
		rep.addf("arena: vm spans %d bytes, kernel %d", vs.size, ks.size)
	}
	for pg := uint32(0); uint64(pg)*arena.PageSize < max(vs.size, ks.size); pg++ {
		vb, vok := vs.pages[pg]
		kb, kok := ks.pages[pg]
		if vok != kok {
			rep.addf("arena page %d (offset %#x): present on vm %v, on kernel %v", pg, uint64(pg)*arena.PageSize, vok, kok)
			continue
		}
		if !vok {
			continue
		}
		rep.PagesCompared++
		if i, ok := tr.equal(vb, kb); !ok {
			w := i &^ 7
			rep.addf("arena page %d: differs at offset %#x: vm %x, kernel %x", pg, uint64(pg)*arena.PageSize+uint64(i),
				vb[w:min(len(vb), w+8)], kb[w:min(len(kb), w+8)])
		}
	}
}

// translator compares memory of the two engines. When their arenas sit at
// different addresses, 64-bit words that point into the respective arenas
// compare by their offset in the arena.
type translator struct {
	vStart, kStart, size uint64
}

func (t translator) isPtr(v, start uint64) bool {
	return t.size != 0 && v >= start && v-start < t.size
}

// equal reports whether vm bytes a and kernel bytes b agree, and if not
// the first offset where they differ.
func (t translator) equal(a, b []byte) (int, bool) {
	if len(a) != len(b) {
		return min(len(a), len(b)), false
	}
	for i := 0; i < len(a); {
		if t.vStart != t.kStart && i+8 <= len(a) && i%8 == 0 {
			x, y := binary.LittleEndian.Uint64(a[i:]), binary.LittleEndian.Uint64(b[i:])
			if x == y || (t.isPtr(x, t.vStart) && t.isPtr(y, t.kStart) && x-t.vStart == y-t.kStart) {
				i += 8
				continue
			}
		}
		if a[i] != b[i] {
			return i, false
		}
		i++
	}
	return 0, true
}
