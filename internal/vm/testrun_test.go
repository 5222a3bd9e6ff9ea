package vm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

// TestTestRunTypes: the program types the kernel's BPF_PROG_TEST_RUN
// refuses (ENOTSUPP) are refused here with ErrNotSupported and the
// reason; the others run.
func TestTestRunTypes(t *testing.T) {
	tests := []struct {
		typ    object.ProgramType
		attach object.AttachType
		data   bool   // a packet program: give it a packet
		want   string // "" runs
	}{
		{typ: object.Syscall},
		{typ: object.XDP, data: true},
		{typ: object.SchedCLS, data: true},
		{typ: object.SchedACT, data: true},
		{typ: object.SocketFilter, data: true},
		{typ: object.RawTracepoint},
		{typ: object.Tracing, attach: object.AttachTraceFEntry},
		{typ: object.Tracing, attach: object.AttachTraceFExit},
		{typ: object.Tracing, attach: object.AttachModifyReturn},
		{typ: object.Kprobe, want: "kprobe"},
		{typ: object.TracePoint, want: "tracepoint"},
		{typ: object.PerfEvent, want: "perf_event"},
		{typ: object.RawTracepointW, want: "writable raw tracepoint"},
		{typ: object.LSM, attach: object.AttachLSMMac, want: "LSM"},
		{typ: object.Extension, want: "extension"},
		{typ: object.Tracing, attach: object.AttachTraceIter, want: "tracing"},
		{typ: object.Tracing, attach: object.AttachTraceRawTp, want: "tracing"},
	}
	for _, tt := range tests {
		ps := progSpec("p", []asm.Instruction{mov64K(0, 0), exit()})
		ps.Type, ps.AttachType, ps.Section = tt.typ, tt.attach, "sec"
		t.Run(fmt.Sprintf("%v-attach%d", tt.typ, tt.attach), func(t *testing.T) {
			c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{ps}})
			opts := engine.RunOptions{}
			if tt.data {
				opts.Data = make([]byte, 64)
			}
			_, err := c.progs["p"].Run(opts)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("run: %v", err)
			case tt.want != "" && (!errors.Is(err, engine.ErrNotSupported) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("run: %v, want ErrNotSupported naming %q", err, tt.want)
			}
		})
	}
}

// TestTestRunTracepointExample: the example's tracepoint program loads but
// does not run, as on the kernel.
func TestTestRunTracepointExample(t *testing.T) {
	spec, err := object.Load("../../bpf/examples/counter.bpf.o")
	if err != nil {
		t.Skipf("object: %v", err)
	}
	c, err := load(spec, engine.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	defer c.Close()
	p, ok := c.progs["count_getpid"]
	if !ok {
		t.Fatal("no count_getpid")
	}
	if _, err := p.Run(engine.RunOptions{}); !errors.Is(err, engine.ErrNotSupported) {
		t.Fatalf("run: %v, want ErrNotSupported", err)
	}
}
