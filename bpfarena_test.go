package bpfarena_test

import (
	"bytes"
	"errors"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/bpf"
	"github.com/bpfarena/bpfarena/internal/conformance"
	"github.com/bpfarena/bpfarena/object"
)

func specOf(t testing.TB, name string) *bpfarena.Spec {
	t.Helper()
	b, err := bpf.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := bpfarena.LoadSpecFromReader(bytes.NewReader(b), name)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// forEachEngine runs f once per engine; the kernel run is skipped, with
// the reason, where the kernel engine cannot run.
func forEachEngine(t *testing.T, f func(t *testing.T, eng bpfarena.Engine)) {
	for _, eng := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		t.Run(eng.String(), func(t *testing.T) { f(t, eng) })
	}
}

func load(t *testing.T, spec *bpfarena.Spec, eng bpfarena.Engine) *bpfarena.Collection {
	t.Helper()
	coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng})
	if errors.Is(err, bpfarena.ErrNotSupported) {
		testenv.SkipKernel(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll
}

func run(t *testing.T, coll *bpfarena.Collection, prog string) uint32 {
	t.Helper()
	ret, err := coll.Program(prog).Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	return ret
}

func global[T any](t *testing.T, coll *bpfarena.Collection, name string) *bpfarena.Var[T] {
	t.Helper()
	v, err := bpfarena.Global[T](coll, name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Go walks a list a BPF program built, following the stored pointers.
func TestWalkList(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		coll := load(t, specOf(t, "examples/list.bpf.o"), eng)
		if got := run(t, coll, "build"); got != 100 {
			t.Fatalf("build returned %d, want 100", got)
		}
		a := coll.Arena()
		var values []uint64
		for p := global[arena.Ptr[ListNode]](t, coll, "head").Get(); !p.IsNil(); p = p.Deref(a).Next {
			if !a.Contains(p.Addr(), 16) {
				t.Fatalf("node pointer %#x outside the arena [%#x, +%#x)", p.Addr(), a.Start(), a.Size())
			}
			values = append(values, p.Deref(a).Value)
			if len(values) > 1000 {
				t.Fatal("list does not end")
			}
		}
		if len(values) != 100 || values[0] != 100 || values[99] != 1 {
			t.Fatalf("walked %d nodes %v..., want 100, 99, ..., 1", len(values), values[:min(3, len(values))])
		}
		if got := run(t, coll, "sum"); got != 5050 {
			t.Fatalf("sum returned %d, want 5050", got)
		}
		if got := run(t, coll, "teardown"); got != 100 {
			t.Fatalf("teardown returned %d, want 100", got)
		}
		if head := global[uint64](t, coll, "head").Get(); head != 0 {
			t.Fatalf("head after teardown = %#x", head)
		}
	})
}

type htabEntry struct {
	Next       arena.Ptr[htabEntry]
	Key, Value uint64
}

type htab struct {
	NBuckets, Count uint32
	Buckets         [256]arena.Ptr[htabEntry]
}

// Go walks a hash table a BPF program built and finds every key.
func TestWalkHashTable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		coll := load(t, specOf(t, "examples/htab.bpf.o"), eng)
		if got := run(t, coll, "build"); got != 1000 {
			t.Fatalf("build returned %d, want 1000", got)
		}
		a := coll.Arena()
		tab := global[arena.Ptr[htab]](t, coll, "table").Get().Deref(a)
		if tab == nil {
			t.Fatal("table is NULL or outside the arena")
		}
		seen := map[uint64]bool{}
		for _, b := range tab.Buckets {
			for e := b; !e.IsNil(); e = e.Deref(a).Next {
				ent := e.Deref(a)
				if ent.Value != ent.Key*ent.Key {
					t.Fatalf("key %d has value %d", ent.Key, ent.Value)
				}
				seen[ent.Key] = true
			}
		}
		if len(seen) != 1000 || tab.Count != 1000 {
			t.Fatalf("found %d keys (count %d), want 1000", len(seen), tab.Count)
		}
		if got := run(t, coll, "lookup"); got != 1000 {
			t.Fatalf("lookup returned %d, want 1000", got)
		}
		if got := global[uint64](t, coll, "value_sum").Get(); got != 333833500 {
			t.Fatalf("value_sum = %d", got)
		}
	})
}

// A BPF program reads a table Go built in the arena.
func TestBPFReadsGoTable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		coll := load(t, specOf(t, "examples/kv.bpf.o"), eng)
		a := coll.Arena()
		const n = 500
		pages := uint32((8 + n*16 + arena.PageSize - 1) / arena.PageSize)
		addr, err := a.Alloc(pages)
		if err != nil {
			t.Fatal(err)
		}
		*arena.Ptr[uint64](addr).Deref(a) = n
		entries := arena.Ptr[KVEntry](addr + 8)
		for i := 0; i < n; i++ {
			*entries.Add(i).Deref(a) = KVEntry{Key: uint64(i*7 + 1), Value: uint64(i * 1000)}
		}
		global[uint64](t, coll, "table").Set(addr)
		key, value, pos := global[uint64](t, coll, "key"), global[uint64](t, coll, "value"), global[int64](t, coll, "pos")
		for _, i := range []int{0, 1, 250, n - 1} {
			key.Set(uint64(i*7 + 1))
			if got := run(t, coll, "lookup"); got != 1 {
				t.Fatalf("lookup of entry %d returned %d", i, got)
			}
			if value.Get() != uint64(i*1000) || pos.Get() != int64(i) {
				t.Fatalf("entry %d: value %d pos %d", i, value.Get(), pos.Get())
			}
		}
		key.Set(2)
		if got := run(t, coll, "lookup"); got != 0 || pos.Get() != -1 {
			t.Fatalf("missing key: retval %d pos %d", got, pos.Get())
		}
	})
}

// Arena globals start with their initial values, readable from Go before
// any program runs, and programs see Go's writes.
func TestArenaGlobals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		coll := load(t, specOf(t, "examples/globals.bpf.o"), eng)
		if got := global[int32](t, coll, "counter").Get(); got != 42 {
			t.Fatalf("counter = %d, want 42", got)
		}
		if got := global[[4]uint64](t, coll, "arr").Get(); got != [4]uint64{1, 2, 3, 4} {
			t.Fatalf("arr = %v", got)
		}
		if got := run(t, coll, "bump"); got != 48 {
			t.Fatalf("bump returned %d, want 48", got)
		}
		addr := global[uint64](t, coll, "counter_addr").Get()
		v, _ := coll.Variable("counter")
		if want := coll.Arena().Start() + uint64(v.Spec.Offset); addr != want {
			t.Fatalf("counter_addr = %#x, want user_vm_start+%d = %#x", addr, v.Spec.Offset, want)
		}
		global[int32](t, coll, "counter").Set(1000)
		if got := run(t, coll, "peek"); got != 1000 {
			t.Fatalf("peek after Go wrote 1000 returned %d", got)
		}
		if err := global[uint64](t, coll, "rodata_var").Set(1); !errors.Is(err, bpfarena.ErrReadOnly) {
			t.Fatalf("setting a .rodata global after load: %v, want ErrReadOnly", err)
		}
	})
}

// A .rodata global set in the spec before loading is what programs see.
func TestSetRodataBeforeLoad(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		spec := specOf(t, "examples/globals.bpf.o")
		if err := spec.SetVariable("rodata_var", []byte{10, 0, 0, 0, 0, 0, 0, 0}); err != nil {
			t.Fatal(err)
		}
		coll := load(t, spec, eng)
		if got := run(t, coll, "bump"); got != 43+10 {
			t.Fatalf("bump returned %d, want 53", got)
		}
	})
}

// A rejected program is a *VerifierError carrying the log and the errno.
func TestVerifierError(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		spec := specOf(t, "examples/list.bpf.o")
		// Drop the arena reference sum needs: both verifiers refuse the casts.
		p := spec.Program("sum")
		for i, r := range p.Relocations {
			if r.Kind == object.RelocMap && r.Map.IsArena() {
				p.Instructions[i].Constant = 0 // a plain 64-bit immediate
				p.Instructions[i].Src = 0
				delete(p.Relocations, i)
			}
		}
		_, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng, Programs: []string{"sum"}})
		if errors.Is(err, bpfarena.ErrNotSupported) {
			testenv.SkipKernel(t, err)
		}
		var ve *bpfarena.VerifierError
		if !errors.As(err, &ve) {
			t.Fatalf("got %v, want a *VerifierError", err)
		}
		const msg = "addr_space_cast insn can only be used in a program that has an associated arena"
		if !strings.Contains(ve.Log, msg) || !errors.Is(err, syscall.EINVAL) || ve.Program != "sum" {
			t.Fatalf("program %q errno %v msg %q\nlog:\n%s", ve.Program, ve.Errno, ve.Msg, ve.Log)
		}
	})
}

// API misuse gets errors, not panics.
func TestMisuse(t *testing.T) {
	coll := load(t, specOf(t, "examples/list.bpf.o"), bpfarena.VM)
	if _, err := coll.Program("nope").Run(nil); !errors.Is(err, bpfarena.ErrNotFound) {
		t.Errorf("missing program: %v", err)
	}
	if _, err := bpfarena.Global[uint32](coll, "head"); err == nil {
		t.Error("Global with a type of the wrong size succeeded")
	}
	if _, err := bpfarena.Global[*int](coll, "head"); err == nil {
		t.Error("Global with a Go pointer type succeeded")
	}
	if _, err := bpfarena.Global[uint64](coll, "nope"); !errors.Is(err, bpfarena.ErrNotFound) {
		t.Errorf("missing global: %v", err)
	}
	if p := arena.Ptr[ListNode](0); p.Deref(coll.Arena()) != nil {
		t.Error("NULL Deref is not nil")
	}
	if p := arena.Ptr[ListNode](coll.Arena().Start() - 8); p.Deref(coll.Arena()) != nil {
		t.Error("Deref below the arena is not nil")
	}
	coll.Close()
	if _, err := coll.Program("build").Run(nil); !errors.Is(err, bpfarena.ErrClosed) {
		t.Errorf("run after close: %v", err)
	}
	if err := coll.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// runnable reports whether BPF_PROG_TEST_RUN can run programs of a type.
func runnable(p *object.ProgramSpec) bool {
	switch p.Type {
	case object.Syscall, object.SchedCLS, object.SchedACT, object.XDP, object.SocketFilter:
		return true
	}
	return false
}

// Every runnable program of every example and corpus object gives the
// same retvals, globals and arena pages on the vm as on the kernel,
// running the programs of each object in order on one collection.
func TestDifferential(t *testing.T) {
	if _, ok := conformance.HostModelled(); !ok {
		t.Skip("the running kernel has no vm model to compare it with")
	}
	names, _ := bpf.Glob("examples/*.bpf.o")
	corpus, _ := bpf.Glob("corpus/*.bpf.o")
	for _, name := range append(names, corpus...) {
		t.Run(strings.TrimSuffix(name, ".bpf.o"), func(t *testing.T) {
			spec := specOf(t, name)
			var steps []conformance.Step
			for _, p := range spec.Programs {
				e, err := conformance.ParseTags(p.Tags)
				if err != nil {
					t.Fatal(err)
				}
				if !runnable(p) || e.Failure || e.Auxiliary {
					continue
				}
				// Programs for other kernel versions, and programs the
				// vm modelling this kernel refuses (a kfunc it lacks):
				// TestCorpus checks those verdicts; here both engines
				// run the same set.
				if v, err := kversion.HostVersion(); err == nil && e.KernelRange(v) != "" {
					continue
				}
				if c, err := bpfarena.Load(spec, bpfarena.Options{Programs: []string{p.Name}, Kernel: conformance.HostKernel()}); err != nil {
					t.Logf("%s left out: %v", p.Name, err)
					continue
				} else {
					c.Close()
				}
				steps = append(steps, conformance.Step{Program: p.Name, Data: make([]byte, 64)})
			}
			if len(steps) == 0 {
				t.Skip("no runnable program")
			}
			rep, err := conformance.Differential(spec, steps)
			if errors.Is(err, bpfarena.ErrNotSupported) {
				testenv.SkipKernel(t, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range rep.Mismatches {
				t.Error(m)
			}
			t.Logf("%d steps, retvals %v, %d arena pages compared", len(steps), rep.Retvals, rep.PagesCompared)
		})
	}
}

// A raw tracepoint program runs repeatedly on both engines (the kernel
// refuses a repeat count for it: the runs are separate), and a run error
// names the program once.
func TestRunRawTracepointRepeat(t *testing.T) {
	spec := specOf(t, "corpus/run_types.bpf.o")
	for _, eng := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		t.Run(eng.String(), func(t *testing.T) {
			coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng})
			if errors.Is(err, bpfarena.ErrNotSupported) {
				testenv.SkipKernel(t, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer coll.Close()
			res, err := coll.Program("raw_tp_counts").Test(bpfarena.RunOptions{Repeat: 3})
			if err != nil {
				t.Fatal(err)
			}
			if res.Retval != 7 {
				t.Errorf("retval %d, want 7", res.Retval)
			}
			runs, err := bpfarena.Global[uint64](coll, "raw_tp_runs")
			if err != nil {
				t.Fatal(err)
			}
			if n := runs.Get(); n != 3 {
				t.Errorf("raw_tp_runs = %d after 3 repeats", n)
			}
			_, err = coll.Program("tracepoint_prog").Test(bpfarena.RunOptions{})
			if err == nil || !errors.Is(err, bpfarena.ErrNotSupported) {
				t.Fatalf("tracepoint run: %v, want ErrNotSupported", err)
			}
			if n := strings.Count(err.Error(), "run tracepoint_prog:"); n != 1 {
				t.Errorf("error names the run %d times: %v", n, err)
			}
		})
	}
}

// A program of a "?" section is typed from the rest of its section name
// and, as libbpf does, loaded only when named.
func TestNoAutoload(t *testing.T) {
	spec := specOf(t, "corpus/run_types.bpf.o")
	ps := spec.Program("raw_tp_optional")
	if ps == nil || !ps.NoAutoload || ps.Type != object.RawTracepoint || ps.AttachTo != "sys_enter" {
		t.Fatalf("raw_tp_optional: %+v", ps)
	}
	if p := spec.Program("raw_tp_counts"); p == nil || p.NoAutoload {
		t.Fatalf("raw_tp_counts: %+v", p)
	}
	coll, err := bpfarena.Load(spec, bpfarena.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	var loaded []string
	for _, p := range coll.Programs() {
		loaded = append(loaded, p.Name())
	}
	if slices.Contains(loaded, "raw_tp_optional") || !slices.Contains(loaded, "raw_tp_counts") {
		t.Fatalf("loaded %v: want raw_tp_counts and not raw_tp_optional", loaded)
	}
	named, err := bpfarena.Load(spec, bpfarena.Options{Programs: []string{"raw_tp_optional"}})
	if err != nil {
		t.Fatal(err)
	}
	defer named.Close()
	res, err := named.Program("raw_tp_optional").Test(bpfarena.RunOptions{})
	if err != nil || res.Retval != 9 {
		t.Fatalf("raw_tp_optional: %v, %v", res, err)
	}
}
