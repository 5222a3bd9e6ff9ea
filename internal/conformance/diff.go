package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/arena"
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
}

// OK reports whether the engines agreed.
func (r *DiffReport) OK() bool { return len(r.Mismatches) == 0 }

func (r *DiffReport) addf(format string, args ...any) {
	if len(r.Mismatches) < 50 {
		r.Mismatches = append(r.Mismatches, fmt.Sprintf(format, args...))
	}
}

// Differential loads spec on the kernel and on the vm, runs the steps in
// order on both (state carries over between steps, as in `bpfarena run`),
// and compares every retval, every global and every arena page.
//
// So that stored arena pointers compare equal, the vm's arena is placed at
// an address with the same low 32 bits as the kernel's: only the upper
// halves of 64-bit pointers then differ, by a known amount. This mutates
// the arena MapSpec's MapExtra during the vm load and restores it, so spec
// must not be loaded concurrently.
//
// The error wraps bpfarena.ErrNotSupported when the kernel engine cannot
// run here.
func Differential(spec *object.Spec, steps []Step) (*DiffReport, error) {
	progs := stepPrograms(steps)
	kc, err := bpfarena.Load(spec, bpfarena.Options{Engine: bpfarena.Kernel, Programs: progs})
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	defer kc.Close()

	vc, err := loadVMBeside(spec, kc.Arena(), progs)
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	defer vc.Close()

	rep := &DiffReport{}
	for i, s := range steps {
		opts := bpfarena.RunOptions{Context: s.Context, Data: s.Data}
		vr, verr := vc.Program(s.Program).Test(opts)
		kr, kerr := kc.Program(s.Program).Test(opts)
		if verr != nil || kerr != nil {
			if (verr == nil) != (kerr == nil) {
				rep.addf("step %d (%s): vm error %v, kernel error %v", i, s.Program, verr, kerr)
			}
			rep.Retvals = append(rep.Retvals, [2]uint32{})
			continue
		}
		rep.Retvals = append(rep.Retvals, [2]uint32{vr.Retval, kr.Retval})
		if vr.Retval != kr.Retval {
			rep.addf("step %d (%s): retval vm %d (%#x), kernel %d (%#x)", i, s.Program, int32(vr.Retval), vr.Retval, int32(kr.Retval), kr.Retval)
		}
		if !bytes.Equal(vr.DataOut, kr.DataOut) {
			rep.addf("step %d (%s): packet out differs: vm %x, kernel %x", i, s.Program, vr.DataOut, kr.DataOut)
		}
	}
	va, ka := vc.Arena(), kc.Arena()
	tr := translator{}
	if va != nil && ka != nil {
		tr = translator{vStart: va.Start(), kStart: ka.Start(), size: ka.Size()}
	}
	for _, v := range spec.Variables {
		if v.Map != nil && v.Map.IsArena() {
			continue // compared with the arena pages
		}
		vv, err1 := vc.Variable(v.Name)
		kv, err2 := kc.Variable(v.Name)
		if err1 != nil || err2 != nil {
			rep.addf("global %s: %v / %v", v.Name, err1, err2)
			continue
		}
		vb, err1 := vv.Read()
		kb, err2 := kv.Read()
		if err1 != nil || err2 != nil {
			rep.addf("global %s: %v / %v", v.Name, err1, err2)
			continue
		}
		if off, ok := tr.equal(vb, kb); !ok {
			rep.addf("global %s (%s+%d): differs at byte %d: vm %x, kernel %x", v.Name, v.Section, v.Offset, off, vb, kb)
		}
	}
	if (va == nil) != (ka == nil) {
		rep.addf("arena: vm has one: %v, kernel has one: %v", va != nil, ka != nil)
		return rep, nil
	}
	if va != nil {
		compareArenas(rep, va, ka, tr)
	}
	return rep, nil
}

func stepPrograms(steps []Step) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range steps {
		if !seen[s.Program] {
			seen[s.Program] = true
			out = append(out, s.Program)
		}
	}
	return out
}

// loadVMBeside loads spec on the vm with its arena at an address whose
// low 32 bits match the kernel arena's.
func loadVMBeside(spec *object.Spec, ka *arena.Arena, progs []string) (*bpfarena.Collection, error) {
	am := spec.Arena()
	if am == nil || ka == nil {
		return bpfarena.Load(spec, bpfarena.Options{Engine: bpfarena.VM, Programs: progs})
	}
	saved := am.MapExtra
	defer func() { am.MapExtra = saved }()
	var lastErr error
	for k := uint64(1); k <= 16; k++ {
		// Stay below 2^47, the top of the x86-64 user address space.
		cand := (ka.Start() + k<<40) % (1 << 47)
		if cand == ka.Start() || cand < 1<<32 {
			continue
		}
		am.MapExtra = cand
		c, err := bpfarena.Load(spec, bpfarena.Options{Engine: bpfarena.VM, Programs: progs})
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("no free place for the vm arena beside the kernel's at %#x: %w", ka.Start(), lastErr)
}

// translator compares memory of the two engines, where 64-bit words that
// are pointers into the respective arenas differ by the arenas' distance.
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
		if i+8 <= len(a) && i%8 == 0 {
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

func compareArenas(rep *DiffReport, va, ka *arena.Arena, tr translator) {
	if va.Pages() != ka.Pages() {
		rep.addf("arena: vm has %d pages, kernel %d", va.Pages(), ka.Pages())
		return
	}
	for pg := uint32(0); pg < va.Pages(); pg++ {
		off := uint64(pg) * arena.PageSize
		vp, kp := va.Present(va.Start()+off), ka.Present(ka.Start()+off)
		if vp != kp {
			rep.addf("arena page %d (offset %#x): present on vm %v, on kernel %v", pg, off, vp, kp)
			continue
		}
		if !vp {
			continue
		}
		rep.PagesCompared++
		vb, err1 := va.Bytes(va.Start()+off, arena.PageSize)
		kb, err2 := ka.Bytes(ka.Start()+off, arena.PageSize)
		if err1 != nil || err2 != nil {
			rep.addf("arena page %d: %v", pg, errors.Join(err1, err2))
			continue
		}
		if i, ok := tr.equal(vb, kb); !ok {
			rep.addf("arena page %d: differs at offset %#x: vm %x, kernel %x", pg, off+uint64(i),
				vb[i&^7:min(len(vb), i&^7+8)], kb[i&^7:min(len(kb), i&^7+8)])
		}
	}
}
