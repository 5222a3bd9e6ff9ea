package pprof

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/bpfarena/bpfarena/internal/engine"
)

// fields splits a protocol buffer message into its fields (varints as
// numbers, length-delimited fields as bytes).
func fields(t *testing.T, b []byte) (map[int][]uint64, map[int][][]byte) {
	t.Helper()
	ints, strs := map[int][]uint64{}, map[int][][]byte{}
	varint := func() uint64 {
		var v uint64
		for s := 0; ; s += 7 {
			if len(b) == 0 {
				t.Fatal("truncated varint")
			}
			c := b[0]
			b = b[1:]
			v |= uint64(c&0x7f) << s
			if c < 0x80 {
				return v
			}
		}
	}
	for len(b) > 0 {
		k := varint()
		switch k & 7 {
		case 0:
			ints[int(k>>3)] = append(ints[int(k>>3)], varint())
		case 2:
			n := varint()
			strs[int(k>>3)] = append(strs[int(k>>3)], b[:n])
			b = b[n:]
		default:
			t.Fatalf("wire type %d", k&7)
		}
	}
	return ints, strs
}

func packed(t *testing.T, b []byte) []uint64 {
	var out []uint64
	for len(b) > 0 {
		var v uint64
		for s := 0; ; s += 7 {
			c := b[0]
			b = b[1:]
			v |= uint64(c&0x7f) << s
			if c < 0x80 {
				break
			}
		}
		out = append(out, v)
	}
	return out
}

func TestWrite(t *testing.T) {
	p := &engine.Profile{Program: "prog", Duration: time.Millisecond, Insn: []engine.ProfileInsn{
		{Index: 0, Slot: 0, Count: 5, Time: 100, Func: "prog", File: "./bpf/p.c", Line: 10},
		{Index: 1, Slot: 1, Count: 0, Func: "prog", File: "./bpf/p.c", Line: 10}, // never ran: no sample
		{Index: 2, Slot: 3, Count: 7, Calls: 7, Time: 900, Func: "sub", File: "./bpf/p.c", Line: 20},
	}}
	var w bytes.Buffer
	if err := Write(&w, p); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&w)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	ints, msgs := fields(t, raw)
	strs := msgs[profStringTable]
	if len(strs) == 0 || len(strs[0]) != 0 {
		t.Fatalf("string table %q does not start with the empty string", strs)
	}
	str := func(i uint64) string { return string(strs[i]) }
	var types []string
	for _, m := range msgs[profSampleType] {
		vi, _ := fields(t, m)
		types = append(types, str(vi[valueType][0])+"/"+str(vi[valueUnit][0]))
	}
	if want := []string{"instructions/count", "time/nanoseconds", "calls/count"}; len(types) != 3 || types[0] != want[0] || types[1] != want[1] || types[2] != want[2] {
		t.Errorf("sample types %v, want %v", types, want)
	}
	if len(msgs[profSample]) != 2 || len(msgs[profLocation]) != 2 || len(msgs[profFunction]) != 2 {
		t.Fatalf("%d samples, %d locations, %d functions; want 2 each", len(msgs[profSample]), len(msgs[profLocation]), len(msgs[profFunction]))
	}
	funcs := map[uint64]string{}
	for _, m := range msgs[profFunction] {
		fi, _ := fields(t, m)
		funcs[fi[funcID][0]] = str(fi[funcName][0]) + "@" + str(fi[funcFilename][0])
	}
	locs := map[uint64]string{}
	for _, m := range msgs[profLocation] {
		li, lm := fields(t, m)
		ln, _ := fields(t, lm[locLine][0])
		addr := uint64(0)
		if a := li[locAddress]; len(a) > 0 {
			addr = a[0]
		}
		locs[li[locID][0]] = fmt.Sprintf("%s:%d#%d", funcs[ln[lineFunction][0]], ln[lineLine][0], addr)
	}
	var got []string
	for _, m := range msgs[profSample] {
		_, sm := fields(t, m)
		loc := packed(t, sm[sampleLocation][0])
		vals := packed(t, sm[sampleValue][0])
		got = append(got, fmt.Sprintf("%s %d %d", locs[loc[0]], vals[0], vals[2]))
		if vals[1] != 100 && vals[1] != 900 {
			t.Errorf("time %d", vals[1])
		}
	}
	want := []string{"prog@bpf/p.c:10#0 5 0", "sub@bpf/p.c:20#3 7 7"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("samples %q, want %q", got, want)
	}
	if ints[profDuration][0] != uint64(time.Millisecond) || str(ints[profDefaultType][0]) != "instructions" {
		t.Errorf("duration %v, default type %q", ints[profDuration], str(ints[profDefaultType][0]))
	}
}
