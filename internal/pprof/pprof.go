// Package pprof writes a BPF program's profile in the format go tool pprof
// reads (gzipped protocol buffers, profile.proto), with the program's
// source lines as locations.
package pprof

import (
	"compress/gzip"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/bpfarena/bpfarena/internal/engine"
)

// Field numbers of profile.proto.
const (
	profSampleType  = 1
	profSample      = 2
	profLocation    = 4
	profFunction    = 5
	profStringTable = 6
	profDuration    = 10
	profPeriodType  = 11
	profPeriod      = 12
	profDefaultType = 14

	valueType = 1
	valueUnit = 2

	sampleLocation = 1
	sampleValue    = 2

	locID      = 1
	locAddress = 3
	locLine    = 4

	lineFunction = 1
	lineLine     = 2

	funcID       = 1
	funcName     = 2
	funcSysName  = 3
	funcFilename = 4
)

// buf is a protocol buffer message under construction.
type buf []byte

func (b *buf) varint(v uint64) {
	for v >= 0x80 {
		*b = append(*b, byte(v)|0x80)
		v >>= 7
	}
	*b = append(*b, byte(v))
}

func (b *buf) key(field, wire int) { b.varint(uint64(field)<<3 | uint64(wire)) }

// int writes a varint field, skipping zero as proto3 does.
func (b *buf) int(field int, v int64) {
	if v == 0 {
		return
	}
	b.key(field, 0)
	b.varint(uint64(v))
}

func (b *buf) bytes(field int, v []byte) {
	b.key(field, 2)
	b.varint(uint64(len(v)))
	*b = append(*b, v...)
}

func (b *buf) packed(field int, vs []uint64) {
	var p buf
	for _, v := range vs {
		p.varint(v)
	}
	b.bytes(field, p)
}

// strings is the string table.
type strings struct {
	list []string
	idx  map[string]int64
}

func (s *strings) of(v string) int64 {
	if i, ok := s.idx[v]; ok {
		return i
	}
	s.idx[v] = int64(len(s.list))
	s.list = append(s.list, v)
	return s.idx[v]
}

// Write writes the profiles as one pprof profile. Every executed instruction is a
// location at its slot number, in the function it belongs to, at its
// source line; each has one sample with three values: instructions
// executed (the default), estimated time in nanoseconds and helper or
// kfunc calls. go tool pprof -lines shows source lines, -list FUNC the
// source beside the counts when the .c file is at hand.
func Write(w io.Writer, ps ...*engine.Profile) error {
	st := &strings{idx: map[string]int64{}}
	st.of("")
	var out buf
	for _, vt := range [][2]string{{"instructions", "count"}, {"time", "nanoseconds"}, {"calls", "count"}} {
		var m buf
		m.int(valueType, st.of(vt[0]))
		m.int(valueUnit, st.of(vt[1]))
		out.bytes(profSampleType, m)
	}
	type fkey struct{ name, file string }
	funcs := map[fkey]uint64{}
	var funcMsgs []buf
	var locs []buf
	var dur time.Duration
	var insns []engine.ProfileInsn
	for _, p := range ps {
		dur += p.Duration
		insns = append(insns, p.Insn...)
	}
	for _, in := range insns {
		if in.Count == 0 && in.Calls == 0 {
			continue
		}
		fk := fkey{in.Func, in.File}
		fid, ok := funcs[fk]
		if !ok {
			fid = uint64(len(funcs) + 1)
			funcs[fk] = fid
			var f buf
			f.int(funcID, int64(fid))
			f.int(funcName, st.of(in.Func))
			f.int(funcSysName, st.of(in.Func))
			f.int(funcFilename, st.of(filepath.Clean(in.File)))
			funcMsgs = append(funcMsgs, f)
		}
		lid := uint64(len(locs) + 1)
		var line buf
		line.int(lineFunction, int64(fid))
		line.int(lineLine, int64(in.Line))
		var loc buf
		loc.int(locID, int64(lid))
		loc.int(locAddress, int64(in.Slot))
		loc.bytes(locLine, line)
		locs = append(locs, loc)
		var s buf
		s.packed(sampleLocation, []uint64{lid})
		s.packed(sampleValue, []uint64{in.Count, uint64(in.Time.Nanoseconds()), in.Calls})
		out.bytes(profSample, s)
	}
	for _, l := range locs {
		out.bytes(profLocation, l)
	}
	for _, f := range funcMsgs {
		out.bytes(profFunction, f)
	}
	var pt buf
	pt.int(valueType, st.of("instructions"))
	pt.int(valueUnit, st.of("count"))
	out.bytes(profPeriodType, pt)
	out.int(profPeriod, 1)
	out.int(profDuration, dur.Nanoseconds())
	out.int(profDefaultType, st.of("instructions"))
	// The string table goes last: every index above is known by now.
	for _, s := range st.list {
		out.bytes(profStringTable, []byte(s))
	}
	zw := gzip.NewWriter(w)
	if _, err := zw.Write(out); err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	return nil
}
