package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestConformancePlugin runs programs through the bpf_conformance plugin
// protocol: hex program on stdin, hex memory as the argument, r0 in hex
// on stdout, errors on stderr with a non-zero exit.
func TestConformancePlugin(t *testing.T) {
	elf := func(path string) string {
		b, err := os.ReadFile(repoPath(path))
		if err != nil {
			t.Skipf("object: %v", err)
		}
		return hex.EncodeToString(b)
	}
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    string // stdout on success
		wantErr string // part of stderr on failure
	}{
		{name: "alu", stdin: "b700000005000000 0700000007000000 9500000000000000\n", want: "c\n"},
		{name: "lddw", stdin: "1800000088776655 0000000044332211 9500000000000000\n", want: "1122334455667788\n"},
		{name: "negative as 64 bits", stdin: "b7000000ffffffff9500000000000000", want: "ffffffffffffffff\n"},
		{name: "load via r1", args: []string{"efbeadde00000000"}, stdin: "79100000000000009500000000000000", want: "deadbeef\n"},
		{name: "store via r1", args: []string{"00000000"},
			stdin: "6201000078563412 6110000000000000 9500000000000000", want: "12345678\n"},
		{name: "r2 is the length", args: []string{"000102"}, stdin: "bf200000000000009500000000000000", want: "3\n"},
		{name: "local call", stdin: "8510000001000000 9500000000000000 b70000002a000000 9500000000000000", want: "2a\n"},
		{name: "helper 5 returns its argument", stdin: "b701000099000000 8500000005000000 9500000000000000", want: "99\n"},
		{name: "div by zero gives 0", stdin: "b70000000a000000 b701000000000000 3f10000000000000 9500000000000000", want: "0\n"},
		{name: "mod by zero keeps dst", stdin: "b70000000a000000 b701000000000000 9f10000000000000 9500000000000000", want: "a\n"},
		{name: "uninitialised stack reads", stdin: "79a0f8ff000000009500000000000000", want: "0\n"},
		{name: "elf", args: []string{"--elf"}, stdin: elf("bpf/corpus/alu.bpf.o"), want: "1\n"},
		{name: "elf with code in .text only", args: []string{"--elf"}, stdin: elf("bpf/plugin/text_only.bpf.o"), want: "2a\n"},
		{name: "elf with maps", args: []string{"--elf"}, stdin: elf("bpf/examples/counter.bpf.o"), wantErr: "invalid func"},
		{name: "out of bounds", args: []string{"0000000000000000"}, stdin: "79100800000000009500000000000000", wantErr: "invalid memory access"},
		{name: "no memory", stdin: "79100000000000009500000000000000", wantErr: "invalid memory access"},
		{name: "other helper", stdin: "85000000010000009500000000000000", wantErr: "invalid func"},
		{name: "bad hex", stdin: "b70000zz", wantErr: "program"},
		{name: "bad memory hex", args: []string{"0g"}, stdin: "9500000000000000", wantErr: "memory"},
		{name: "half an instruction", stdin: "b700000005", wantErr: "program"},
		{name: "invalid instruction", stdin: "ff000000000000009500000000000000", wantErr: "unknown opcode"},
		{name: "frame pointer written", stdin: "b70a000000000000 9500000000000000", wantErr: "frame pointer"},
		{name: "empty program", stdin: "\n", wantErr: "program"},
		{name: "loops forever", stdin: "05 00 ffff 00000000", wantErr: "budget"},
		{name: "runs off the end", stdin: "b700000001000000", wantErr: "insn"},
		// --verify: the kernel's verdict first.
		{name: "verified", args: []string{"--verify"}, stdin: "b700000005000000 0700000007000000 9500000000000000\n", want: "c\n"},
		{name: "verified load via r1", args: []string{"--verify", "efbeadde00000000"}, stdin: "79100000000000009500000000000000", want: "deadbeef\n"},
		{name: "verified helper 5", args: []string{"--verify"}, stdin: "b701000099000000 8500000005000000 9500000000000000", want: "99\n"},
		{name: "shift out of range", stdin: "b700000001000000 6700000040000000 9500000000000000", want: "1\n"},
		{name: "shift out of range verified", args: []string{"--verify"}, stdin: "b700000001000000 6700000040000000 9500000000000000", wantErr: "invalid shift 64"},
		{name: "r2 unset for the verifier", args: []string{"--verify", "000102"}, stdin: "bf200000000000009500000000000000", wantErr: "R2 !read_ok"},
		{name: "loops forever verified", args: []string{"--verify"}, stdin: "b700000000000000 05 00 ffff 00000000", wantErr: "infinite loop detected at insn 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"conformance-plugin"}, tt.args...)
			code := realMain(args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if tt.wantErr == "" {
				if code != 0 || stdout.String() != tt.want {
					t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, stdout.String(), stderr.String(), tt.want)
				}
				return
			}
			if code == 0 || !strings.Contains(stderr.String(), tt.wantErr) || stdout.Len() != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want an error with %q", code, stdout.String(), stderr.String(), tt.wantErr)
			}
		})
	}
}

// bpf_conformance, given --plugin_path bpfarena --plugin_options
// conformance-plugin, passes the memory before the plugin's options.
func TestConformancePluginSuiteOrder(t *testing.T) {
	for _, args := range [][]string{
		{"efbeadde00000000", "conformance-plugin"},
		{"efbeadde00000000", "conformance-plugin", "--elf=false"},
	} {
		var stdout, stderr bytes.Buffer
		code := realMain(args, strings.NewReader("79100000000000009500000000000000"), &stdout, &stderr)
		if code != 0 || stdout.String() != "deadbeef\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
}
