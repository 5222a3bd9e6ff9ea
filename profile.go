package bpfarena

import (
	"io"

	"github.com/bpfarena/bpfarena/internal/pprof"
)

// WriteProfile writes the profiles (of one or several programs) in the gzipped protocol buffer format go tool
// pprof reads: one location per executed instruction, in its BPF function
// at its BTF source line, with instructions (the default sample), time in
// nanoseconds and calls as sample values.
func WriteProfile(w io.Writer, ps ...*Profile) error { return pprof.Write(w, ps...) }
