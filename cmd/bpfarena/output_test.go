package main

import (
	"strings"
	"testing"
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
