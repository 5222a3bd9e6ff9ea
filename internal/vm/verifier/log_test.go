package verifier

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

func TestLog(t *testing.T) {
	lines := []object.Line{
		{Index: 0, Slot: 0, File: "/src/prog.c", Line: 30, Source: "\tint x = 0;"},
		{Index: 2, Slot: 3, File: "/src/prog.c", Line: 31, Source: "\treturn *p;"},
	}
	bad := prog(withArena(movImm(asm.R1, 8), ldx(w, asm.R0, asm.R1, 0), exit()), arenaRels())
	bad.Lines = lines
	_, err := Verify(bad, Env{ArenaFixed: true, LogLevel: 1})
	var ve *Error
	if !errors.As(err, &ve) {
		t.Fatalf("accepted: %v", err)
	}
	if ve.Line != "prog.c:31" || ve.Insn != 3 || ve.Program != "test" {
		t.Errorf("Line %q Insn %d Program %q, want prog.c:31, 3, test", ve.Line, ve.Insn, ve.Program)
	}
	for _, want := range []string{
		"; int x = 0; @ prog.c:30\n0: (18) r6 = ",
		"2: (b7) r1 = 8\n; return *p; @ prog.c:31\n3: (61) r0 = *(u32 *)(r1 +0)\n",
		"R1 invalid mem access 'scalar'\nprocessed 3 insns (limit 1000000)",
	} {
		if !strings.Contains(ve.Log, want) {
			t.Errorf("log lacks %q:\n%s", want, ve.Log)
		}
	}
	if got, want := ve.Error(), "program test: insn 3 (prog.c:31): R1 invalid mem access 'scalar' (permission denied)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	// Accepted: the log is kept only when asked for.
	good := prog([]ins{movImm(asm.R0, 0), exit()}, nil)
	res, err := Verify(good, Env{})
	if err != nil || res.Log != "" || res.Processed != 2 {
		t.Errorf("level 0: err %v, log %q, processed %d", err, res.Log, res.Processed)
	}
	res, err = Verify(good, Env{LogLevel: 2})
	if err != nil || !strings.HasPrefix(res.Log, "0: (b7) r0 = 0\n1: (95) exit\nprocessed 2 insns") {
		t.Errorf("level 2: err %v, log %q", err, res.Log)
	}

	// Nothing to verify.
	if _, err := Verify(prog(nil, nil), Env{}); err == nil {
		t.Error("empty program accepted")
	}
	if _, err := Verify(nil, Env{}); err == nil {
		t.Error("nil program accepted")
	}
}
