package vm

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/vm/verifier"
	"github.com/bpfarena/bpfarena/object"
)

// TestExamples loads every example object and runs each program once:
// syscall programs with no ctx, packet programs with a 64-byte packet.
// Nothing may fail at run time; where the example documents its result,
// the result is checked.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("../../bpf/examples/*.bpf.o")
	if len(files) == 0 {
		t.Skip("no example objects")
	}
	want := map[string]uint32{
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
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			spec, err := object.Load(f)
			if err != nil {
				t.Skipf("object: %v", err)
			}
			c, err := load(spec, engine.Options{})
			var ve *verifier.Error
			if errors.As(err, &ve) {
				// The static pass's verdicts are tested with it.
				t.Skipf("verifier: %v", err)
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			defer c.Close()
			for _, ps := range spec.Programs {
				opts := engine.RunOptions{}
				switch ps.Type {
				case object.Syscall:
				case object.XDP, object.SchedCLS, object.SchedACT, object.SocketFilter:
					opts.Data = make([]byte, 64)
				default:
					continue
				}
				res, err := c.progs[ps.Name].Run(opts)
				var re *RuntimeError
				if errors.As(err, &re) {
					t.Errorf("%s: %v", ps.Name, err)
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", ps.Name, err)
					continue
				}
				t.Logf("%s: retval %d (%#x), %d faults, output %q", ps.Name, int32(res.Retval), res.Retval, len(res.Faults), res.Output)
				if w, ok := want[filepath.Base(f)+"/"+ps.Name]; ok && res.Retval != w {
					t.Errorf("%s: retval %d, want %d", ps.Name, res.Retval, w)
				}
			}
		})
	}
}
