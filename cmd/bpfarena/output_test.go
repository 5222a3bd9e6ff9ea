package main

import (
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
)

func TestRetvalText(t *testing.T) {
	for _, c := range []struct {
		r    uint32
		want string
	}{
		{0, "0 (0x0)"},
		{100, "100 (0x64)"},
		{0xffffffff, "-1 (0xffffffff = 4294967295)"},
		{0x80000000, "-2147483648 (0x80000000 = 2147483648)"},
	} {
		if got := retvalText(c.r); got != c.want {
			t.Errorf("retvalText(%#x) = %q, want %q", c.r, got, c.want)
		}
	}
}

// run shows arena pointers in hex, and inspect both instruction and slot
// counts.
func TestHumanOutput(t *testing.T) {
	out, errOut, code := runCmd(t, "run", repoPath("bpf", "examples", "list.bpf.o"), "build")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "  head = 0x") || !strings.Contains(out, "  count = 100\n") {
		t.Errorf("run output:\n%s", out)
	}
	out, errOut, code = runCmd(t, "inspect", repoPath("bpf", "examples", "fixed.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "INSNS  SLOTS") {
		t.Errorf("inspect output:\n%s", out)
	}
	_, errOut, _ = runCmd(t, "run")
	if !strings.Contains(errOut, "--data HEX") {
		t.Errorf("run usage lacks --data: %s", errOut)
	}
}

// Where the kernel engine cannot run, commands that asked only for it
// fail and say why instead of reporting nothing as success; with both
// engines, the vm's results are marked as the vm's alone.
func TestNothingRan(t *testing.T) {
	spec, err := bpfarena.LoadSpec(repoPath("bpf", "examples", "list.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: bpfarena.Kernel})
	if err == nil {
		coll.Close()
		t.Skip("the kernel engine runs here")
	}
	if !errors.Is(err, bpfarena.ErrNotSupported) {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, "bench", "--engine", "kernel", "--count", "1", "--loads", "1")
	if code != 1 || !strings.Contains(errOut, "no engine ran") || strings.Contains(out, "(load)") {
		t.Errorf("bench --engine kernel: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	obj := repoPath("bpf", "corpus", "arena_free.bpf.o") // an arena: refused here
	out, _, code = runCmd(t, "test", "--engine", "kernel", obj)
	if code != 1 || !strings.Contains(out, "the kernel engine ran no test: ") || !strings.Contains(out, "FAIL: no engine ran any test") {
		t.Errorf("test --engine kernel: exit %d:\n%s", code, out)
	}
	out, _, code = runCmd(t, "test", "--engine", "both", obj)
	if code != 0 || !strings.Contains(out, "PASS (vm only) ") || !strings.Contains(out, "the kernel engine ran no test: ") {
		t.Errorf("test --engine both: exit %d:\n%s", code, out)
	}
}

// Every key the JSON outputs use is documented in the README.
func TestJSONDocumented(t *testing.T) {
	readme, err := os.ReadFile(repoPath("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(readme), "## JSON output")
	if start < 0 {
		t.Fatal("README has no JSON output section")
	}
	doc := string(readme[start:])
	if end := strings.Index(doc[3:], "\n## "); end > 0 {
		doc = doc[:end+3]
	}
	for _, v := range []any{runOutput{}, runProgram{}, runProfile{}, runProfileEntry{}, runArena{}, runFault{}, inspectOutput{}, inspectProgram{},
		inspectMap{}, inspectGlobal{}, inspectExtern{}, testLine{}, benchOutput{}, benchRow{}} {
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			tag := rt.Field(i).Tag.Get("json")
			key, _, _ := strings.Cut(tag, ",")
			if key == "" || key == "-" {
				continue
			}
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(key) + `\b`).MatchString(doc) {
				t.Errorf("%s: key %q is not in the README's JSON section", rt.Name(), key)
			}
		}
	}
}
