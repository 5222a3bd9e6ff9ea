package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunProfile: --profile prints functions and the hottest lines with
// their source; --profile=FILE also writes a gzipped pprof profile; the
// JSON output carries the counts, which sum to the instruction total.
func TestRunProfile(t *testing.T) {
	obj := repoPath("bpf", "examples", "list.bpf.o")
	out, errOut, code := runCmd(t, "run", "--profile", "--set", "n=10", obj, "build", "sum")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"profile of build:", "profile of sum:", "hottest lines", "list.bpf.c:", "s += node->value"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	file := filepath.Join(t.TempDir(), "p.pprof")
	out, errOut, code = runCmd(t, "run", "--json", "--profile="+file, "--set", "n=10", obj, "build", "sum")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Programs []struct {
			Name    string      `json:"name"`
			Profile *runProfile `json:"profile"`
		} `json:"programs"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	for _, p := range got.Programs {
		if p.Profile == nil || p.Profile.Insns == 0 || len(p.Profile.Lines) == 0 {
			t.Fatalf("%s: profile %+v", p.Name, p.Profile)
		}
		var sum uint64
		for _, l := range p.Profile.Lines {
			sum += l.Insns
		}
		if sum != p.Profile.Insns {
			t.Errorf("%s: lines sum to %d of %d instructions", p.Name, sum, p.Profile.Insns)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Fatalf("pprof file: %v, % x", err, b[:min(len(b), 4)])
	}
	if _, errOut, code := runCmd(t, "run", "--engine", "kernel", "--profile", obj, "sum"); code == 0 || !strings.Contains(errOut, "vm engine") {
		t.Errorf("--profile on the kernel engine: exit %d, %s", code, errOut)
	}
}
