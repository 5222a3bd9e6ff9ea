//go:build linux

package kernel

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/bpfarena/bpfarena/internal/engine"
)

// faultRe matches the report a 6.17+ kernel writes to a program's stderr
// stream when it touches an arena page that is not present.
var faultRe = regexp.MustCompile(`^ERROR: Arena (READ|WRITE) access at unmapped address 0x([0-9a-fA-F]+)`)

// sourceRe matches the source location the kernel prints under a BPF frame
// of the call trace when the program has line info ("... @ file.c:31").
var sourceRe = regexp.MustCompile(`@ (\S+:\d+)\s*$`)

// parseFaults picks the arena fault reports out of a stderr stream. Each
// report is the ERROR line, a CPU/PID line and a call trace; the first
// source location in the trace is the faulting line. The kernel does not
// print the instruction, so Insn is -1. Text that is not part of a fault
// report is returned as rest.
func parseFaults(prog, stderr string) ([]engine.Fault, string) {
	var faults []engine.Fault
	var rest strings.Builder
	lines := strings.SplitAfter(stderr, "\n")
	for i := 0; i < len(lines); i++ {
		m := faultRe.FindStringSubmatch(lines[i])
		if m == nil {
			rest.WriteString(lines[i])
			continue
		}
		addr, _ := strconv.ParseUint(m[2], 16, 64)
		f := engine.Fault{Program: prog, Kind: engine.FaultRead, Address: addr, Insn: -1}
		if m[1] == "WRITE" {
			f.Kind = engine.FaultWrite
		}
		// The report runs until the next ERROR line or the end.
		for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "ERROR: ") {
			i++
			if f.Line == "" {
				if s := sourceRe.FindStringSubmatch(strings.TrimRight(lines[i], "\n")); s != nil {
					f.Line = s[1]
				}
			}
		}
		faults = append(faults, f)
	}
	return faults, rest.String()
}
