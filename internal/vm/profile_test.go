package vm

import (
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

// TestProfileCounts: a profile counts every instruction exactly as often
// as it ran (fused pairs, taken and untaken jumps, callbacks included), its
// total is what the run charged to the budget, and calls are counted at
// their instruction.
func TestProfileCounts(t *testing.T) {
	tests := []struct {
		name  string
		insns []asm.Instruction
		runs  uint32
		want  []uint64 // count of each instruction, per run
		calls map[int]uint64
	}{
		{name: "loop", insns: []asm.Instruction{
			mov64K(0, 0), mov64K(1, 3), // 0, 1
			alu64K(bpfAdd, 0, 2),   // 2: 3 times
			alu64K(bpfSub, 1, 1),   // 3
			jmpK(bpfJne, 1, 0, -3), // 4: taken twice
			exit(),                 // 5
		}, runs: 2, want: []uint64{1, 1, 3, 3, 3, 1}},
		{name: "fused pair and a jump into its second half", insns: []asm.Instruction{
			mov64K(1, 1), jmpK(bpfJeq, 1, 1, 1), // 0, 1: taken
			mov64X(2, 1), alu64K(bpfAdd, 2, 5), // 2 (fused, skipped), 3
			mov64X(0, 2), alu64K(bpfLsh, 0, 1), // 4, 5: fused
			exit(),
		}, runs: 1, want: []uint64{1, 1, 0, 1, 1, 1, 1}},
		{name: "bpf_loop callback", insns: []asm.Instruction{
			mov64K(1, 4), raw(0x18, 2, 4, 0, 5), mov64K(3, 0), mov64K(4, 0), call(helperLoop), exit(), // 0-5
			mov64K(0, 0), exit(), // 6, 7: four times
		}, runs: 1, want: []uint64{1, 1, 1, 1, 1, 1, 4, 4}, calls: map[int]uint64{4: 1}},
		{name: "helper calls", insns: []asm.Instruction{
			mov64K(6, 2), call(helperSmpProcessor), alu64K(bpfSub, 6, 1), jmpK(bpfJne, 6, 0, -3), exit(),
		}, runs: 3, want: []uint64{1, 2, 2, 2, 1}, calls: map[int]uint64{1: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := progSpec("p", tt.insns)
			ps.Funcs = []object.Func{{Name: "p", Index: 0}}
			ps.Lines = []object.Line{{Index: 0, File: "/src/p.c", Line: 10, Source: "first();"}, {Index: 2, File: "/src/p.c", Line: 11, Source: "loop();"}}
			c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{ps}})
			res, err := c.progs["p"].Run(engine.RunOptions{Profile: true, Repeat: tt.runs})
			if err != nil {
				t.Fatal(err)
			}
			pr := res.Profile
			if pr == nil {
				t.Fatal("no profile")
			}
			var total, lines, funcs uint64
			for i, in := range pr.Insn {
				want := tt.want[i] * uint64(tt.runs)
				if in.Count != want {
					t.Errorf("insn %d ran %d times, want %d", i, in.Count, want)
				}
				if in.Calls != tt.calls[i]*uint64(tt.runs) {
					t.Errorf("insn %d: %d calls, want %d", i, in.Calls, tt.calls[i]*uint64(tt.runs))
				}
				total += want
			}
			if pr.Insns != total || pr.Runs != tt.runs {
				t.Errorf("profile of %d instructions in %d runs, want %d in %d", pr.Insns, pr.Runs, total, tt.runs)
			}
			for _, l := range pr.Lines {
				lines += l.Insns
			}
			for _, f := range pr.Funcs {
				funcs += f.Insns
			}
			if lines != total || funcs != total {
				t.Errorf("lines sum to %d, functions to %d, want %d", lines, funcs, total)
			}
			// The budget charged for one run is the profile's count.
			_, m, err := run64(c, "p")
			if err != nil {
				t.Fatal(err)
			}
			if ran := c.budget - m.budget; ran*uint64(tt.runs) != total {
				t.Errorf("budget charged %d a run, profile counts %d over %d runs", ran, total, tt.runs)
			}
		})
	}
}

// TestProfileLines: lines are attributed by BTF line info, with their
// source, and sorted hottest first; no profile is taken unless asked for.
func TestProfileLines(t *testing.T) {
	ps := progSpec("p", []asm.Instruction{
		mov64K(0, 0), mov64K(1, 50), // line 10
		alu64K(bpfAdd, 0, 1), alu64K(bpfSub, 1, 1), jmpK(bpfJne, 1, 0, -3), // line 11
		exit(), // line 12
	})
	ps.Lines = []object.Line{
		{Index: 0, File: "/src/p.c", Line: 10, Source: "int x = 0;"},
		{Index: 2, File: "/src/p.c", Line: 11, Source: "while (n--) x++;"},
		{Index: 5, File: "/src/p.c", Line: 12, Source: "return x;"},
	}
	c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{ps}})
	res, err := c.progs["p"].Run(engine.RunOptions{})
	if err != nil || res.Profile != nil {
		t.Fatalf("unprofiled run: %v, profile %v", err, res.Profile)
	}
	res, err = c.progs["p"].Run(engine.RunOptions{Profile: true})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Profile.Lines
	if len(l) != 3 || l[0].Line != 11 || l[0].Insns != 150 || l[0].Source != "while (n--) x++;" || l[0].Func != "p" {
		t.Fatalf("lines %+v", l)
	}
	if l[0].Time < l[1].Time || l[0].Time <= 0 {
		t.Errorf("hottest line's time %v, next %v", l[0].Time, l[1].Time)
	}
	if f := res.Profile.Funcs; len(f) != 1 || f[0].Name != "p" || f[0].Insns != 153 {
		t.Errorf("funcs %+v", f)
	}
}

// TestProfileTailCall: a profiled program that tail-calls others gives the
// same result and counts only its own instructions; the targets run
// unprofiled.
func TestProfileTailCall(t *testing.T) {
	c, err := Load(loadCorpus(t, "tailcall.bpf.o"), engine.Options{Programs: []string{"tail_call_limit", "ret42", "tail_self", "ret_len"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, _ := c.Program("tail_call_limit")
	res, err := p.Run(engine.RunOptions{Data: make([]byte, 64), Profile: true})
	if err != nil || res.Retval != 33 || res.Profile == nil {
		t.Fatalf("retval %d, %v, profile %v; want 33", res.Retval, err, res.Profile)
	}
	if n := len(res.Profile.Insn); n != len(c.(*Collection).progs["tail_call_limit"].p.raw) {
		t.Errorf("%d instructions profiled", n)
	}
	if res.Profile.Insns == 0 || res.Profile.Calls == 0 {
		t.Errorf("profile %+v", res.Profile)
	}
}
