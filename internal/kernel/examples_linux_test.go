//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/bpf"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

// exampleRetvals are the results the examples document (see their
// sources in bpf/examples), which the kernel must give.
var exampleRetvals = map[string]uint32{
	"pages.bpf.o/first_fit":     409889,
	"pages.bpf.o/exact":         0,
	"pages.bpf.o/free_rules":    0,
	"pages.bpf.o/reserve_rules": 0,
	"pages.bpf.o/absent":        85,
	"counter.bpf.o/count_xdp":   2,
	"counter.bpf.o/count_tc":    0,
	"argarena.bpf.o/run":        155,
	"atomics.bpf.o/arena_ops":   5540,
	"atomics.bpf.o/stack_ops":   6083,
	"atomics.bpf.o/map_ops":     6083,
	"bench.bpf.o/htab_bench":    1000,
	"bench.bpf.o/xorshift":      0xc2958ad6,
	"bench.bpf.o/alloc_free":    1000,
	"bench.bpf.o/churn16":       1000,
	"bench.bpf.o/kfunc_loop":    0x6a4ae6e0,
	"bench.bpf.o/arena_rw":      502280880,
	"bench.bpf.o/htab_big":      100000,
	"bench.bpf.o/list_walk":     50005000,
	"compute.bpf.o/xorshift":    0xc2958ad6,
	"compute.bpf.o/kfunc_loop":  0x6a4ae6e0,
	"fixed.bpf.o/alloc":         0xfeedface,
	"globals.bpf.o/peek":        42,
	"globals.bpf.o/bump":        48,
	"htab.bpf.o/build":          1000,
	"htab.bpf.o/lookup":         1000,
	"htab.bpf.o/destroy":        1000,
	"list.bpf.o/build":          100,
	"list.bpf.o/sum":            5050,
	"list.bpf.o/teardown":       100,
	"heap.bpf.o/heapsort":       500,
}

// TestExamples loads every example object into the kernel and runs its
// programs in order, as `bpfarena run` does.
func TestExamples(t *testing.T) {
	requireKernel(t)
	files, err := bpf.Glob("examples/*.bpf.o")
	if err != nil || len(files) == 0 {
		t.Skip("no example objects")
	}
	for _, f := range files {
		name := path.Base(f)
		t.Run(name, func(t *testing.T) {
			raw, err := bpf.Read(f)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := object.LoadReader(strings.NewReader(string(raw)), name)
			if err != nil {
				t.Skipf("object reader: %v", err)
			}
			start := time.Now()
			c, err := Load(spec, engine.Options{})
			took := time.Since(start)
			var verr *VerifierError
			if errors.As(err, &verr) && strings.Contains(err.Error(), "too complex") {
				// An earlier heap.bpf.o was beyond the verifier's
				// jump history limit.
				t.Skipf("the kernel verifier rejects it: %v", err)
			}
			if errors.Is(err, kversion.ErrMissingKfunc) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			defer c.Close()
			t.Logf("loaded %d programs in %v", len(spec.Programs), took)
			for _, ps := range spec.Programs {
				p, ok := c.Program(ps.Name)
				if !ok {
					t.Fatalf("program %s not loaded", ps.Name)
				}
				opts := engine.RunOptions{}
				switch ps.Type {
				case object.XDP, object.SchedCLS, object.SchedACT, object.SocketFilter:
					opts.Data = make([]byte, 64)
				}
				res, err := p.Run(opts)
				if ps.Type == object.TracePoint || ps.Type == object.Kprobe {
					if !errors.Is(err, engine.ErrNotSupported) {
						t.Errorf("%s: run of a %s program: %v, want ErrNotSupported", ps.Name, progTypeName(ps.Type), err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", ps.Name, err)
					continue
				}
				if name+"/"+ps.Name == "bench.bpf.o/htab_big" && testenv.MatrixKernel() != "" {
					// Under emulation the loop outlasts the kernel's timed
					// may_goto (about 250 ms), which ends it early.
					continue
				}
				if want, ok := exampleRetvals[name+"/"+ps.Name]; ok && res.Retval != want {
					t.Errorf("%s: retval %d (%#x), want %d (%#x)", ps.Name, res.Retval, res.Retval, want, want)
				}
			}
		})
	}
}

// TestWalkHtab is the second showcase on the kernel: a BPF program builds a
// hash table in the arena, and Go walks it through its own mapping of the
// arena, following the pointers the program stored.
func TestWalkHtab(t *testing.T) {
	requireKernel(t)
	spec := exampleSpec(t, "htab.bpf.o")
	var table *object.VariableSpec
	for _, v := range spec.Variables {
		if v.Name == "table" {
			table = v
		}
	}
	if table == nil {
		t.Skip("htab.bpf.o has no global named table")
	}
	c, err := Load(spec, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, _ := c.Program("build")
	if res, err := p.Run(engine.RunOptions{}); err != nil || res.Retval != 1000 {
		t.Fatalf("build: %v, %v", res.Retval, err)
	}
	data, ok := c.Data(table.Map)
	if !ok {
		t.Fatal("no .bss")
	}
	a := c.Arena()
	u64 := func(addr uint64) uint64 {
		b, err := a.Bytes(addr, 8)
		if err != nil {
			t.Fatalf("read %#x: %v", addr, err)
		}
		return binary.LittleEndian.Uint64(b)
	}
	head := binary.LittleEndian.Uint64(data[table.Offset:])
	if !a.Contains(head, 8) {
		t.Fatalf("table = %#x, outside the arena [%#x, %#x)", head, a.Start(), a.Start()+a.Size())
	}
	// struct htab { u32 n_buckets, count; struct htab_entry *buckets[]; }
	// struct htab_entry { struct htab_entry *next; u64 key, value; }
	nb := uint32(u64(head))
	entries, sum := 0, uint64(0)
	for i := uint32(0); i < nb; i++ {
		for e := u64(head + 8 + 8*uint64(i)); e != 0; e = u64(e) {
			key, value := u64(e+8), u64(e+16)
			if value != key*key {
				t.Fatalf("entry %d = %d", key, value)
			}
			entries++
			sum += value
		}
	}
	if entries != 1000 || sum != 333833500 {
		t.Errorf("Go found %d entries summing to %d, want 1000 and 333833500", entries, sum)
	}
}

// TestGoBuildsKV is the first showcase on the kernel: Go allocates arena
// pages through the kfuncs, lays out a key/value table there and points a
// global at it; a BPF program looks keys up in it.
func TestGoBuildsKV(t *testing.T) {
	requireKernel(t)
	spec := exampleSpec(t, "kv.bpf.o")
	vars := map[string]*object.VariableSpec{}
	for _, v := range spec.Variables {
		vars[v.Name] = v
	}
	for _, n := range []string{"table", "key", "value", "pos"} {
		if vars[n] == nil {
			t.Skipf("kv.bpf.o has no global named %s", n)
		}
	}
	c, err := Load(spec, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := c.Arena()
	const n = 1000 // 16 KB of entries: several pages
	pages := uint32((8 + 16*n + arena.PageSize - 1) / arena.PageSize)
	tab, err := a.Alloc(pages)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := a.Bytes(tab, uint64(pages)*arena.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(mem, n)
	for i := uint64(0); i < n; i++ {
		binary.LittleEndian.PutUint64(mem[8+16*i:], 10*(i+1))
		binary.LittleEndian.PutUint64(mem[16+16*i:], (i+1)*(i+1))
	}
	global := func(name string) []byte {
		v := vars[name]
		data, ok := c.Data(v.Map)
		if !ok {
			t.Fatalf("no data map for %s", name)
		}
		return data[v.Offset : v.Offset+8]
	}
	binary.LittleEndian.PutUint64(global("table"), tab)
	p, _ := c.Program("lookup")
	tests := []struct {
		key    uint64
		retval uint32
		value  uint64
		pos    int64
	}{
		{20, 1, 4, 1},
		{10 * n, 1, n * n, n - 1},
		{15, 0, 0, -1},
	}
	for _, tt := range tests {
		binary.LittleEndian.PutUint64(global("key"), tt.key)
		res, err := p.Run(engine.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		value := binary.LittleEndian.Uint64(global("value"))
		pos := int64(binary.LittleEndian.Uint64(global("pos")))
		if res.Retval != tt.retval || value != tt.value || pos != tt.pos {
			t.Errorf("key %d: retval %d value %d pos %d, want %d %d %d", tt.key, res.Retval, value, pos, tt.retval, tt.value, tt.pos)
		}
	}
}
