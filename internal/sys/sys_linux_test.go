//go:build linux

package sys

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("bpf(2) tests need root")
	}
}

// insns encodes raw instructions: opcode, regs, off, imm.
func insns(ins ...[4]int64) []byte {
	var b []byte
	for _, i := range ins {
		b = append(b, byte(i[0]), byte(i[1]))
		b = binary.LittleEndian.AppendUint16(b, uint16(i[2]))
		b = binary.LittleEndian.AppendUint32(b, uint32(i[3]))
	}
	return b
}

// retProg is "r0 = v; exit" as a socket filter.
func retProg(v int64) *ProgLoadAttr {
	code := insns([4]int64{0xb7, 0, 0, v}, [4]int64{0x95, 0, 0, 0})
	return &ProgLoadAttr{
		ProgType: 1,
		InsnCnt:  2,
		Insns:    SlicePointer(code),
		License:  StringPointer("GPL"),
		ProgName: NewObjName("ret"),
	}
}

func TestMapOps(t *testing.T) {
	requireRoot(t)
	fd, err := MapCreate(&MapCreateAttr{MapType: 1, KeySize: 4, ValueSize: 8, MaxEntries: 4, MapName: NewObjName("sys_test_hash")})
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	info, err := GetMapInfo(fd)
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != 1 || info.KeySize != 4 || info.ValueSize != 8 || info.MaxEntries != 4 ||
		!strings.HasPrefix(string(info.Name[:]), "sys_test_hash\x00") {
		t.Errorf("map info %+v", info)
	}
	key, val := []byte{1, 0, 0, 0}, []byte{1, 2, 3, 4, 5, 6, 7, 8}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"lookup missing", func() error { return MapLookup(fd, key, make([]byte, 8)) }, unix.ENOENT},
		{"update", func() error { return MapUpdate(fd, key, val, 0) }, nil},
		{"update noexist", func() error { return MapUpdate(fd, key, val, 1) }, unix.EEXIST},
		{"lookup", func() error {
			got := make([]byte, 8)
			if err := MapLookup(fd, key, got); err != nil {
				return err
			}
			if string(got) != string(val) {
				return errors.New("wrong value")
			}
			return nil
		}, nil},
		{"next key", func() error {
			next := make([]byte, 4)
			if err := MapGetNextKey(fd, nil, next); err != nil {
				return err
			}
			if string(next) != string(key) {
				return errors.New("wrong key")
			}
			return nil
		}, nil},
		{"delete", func() error { return MapDelete(fd, key) }, nil},
		{"delete again", func() error { return MapDelete(fd, key) }, unix.ENOENT},
		{"freeze", func() error { return MapFreeze(fd) }, nil},
		{"update frozen", func() error { return MapUpdate(fd, key, val, 0) }, unix.EPERM},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	if err := fd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fd.Close(); err != nil || fd.Int() != -1 {
		t.Errorf("second close: %v, fd %d", err, fd.Int())
	}
}

func TestProgLoadLog(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name    string
		attr    *ProgLoadAttr
		opts    ProgLoadOptions
		wantErr error
		wantLog string
	}{
		{"no log", retProg(7), ProgLoadOptions{}, nil, ""},
		// A 32-byte buffer cannot hold the level 2 log: ENOSPC, retried
		// with a larger buffer.
		{"log grows", retProg(7), ProgLoadOptions{LogLevel: 2, LogSize: 32}, nil, "processed 2 insns"},
		// Level 0 failure is retried with a log to give the reason.
		{"reason on failure", &ProgLoadAttr{ProgType: 1, InsnCnt: 1, Insns: SlicePointer(insns([4]int64{0x95, 0, 0, 0})), License: StringPointer("GPL")},
			ProgLoadOptions{}, unix.EACCES, "R0 !read_ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, log, err := ProgLoad(tt.attr, tt.opts)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				var le *LoadError
				if !errors.As(err, &le) || !strings.Contains(le.Log, tt.wantLog) {
					t.Errorf("error %v carries log %q, want %q", err, log, tt.wantLog)
				}
				return
			}
			defer fd.Close()
			if !strings.Contains(log, tt.wantLog) {
				t.Errorf("log %q, want %q", log, tt.wantLog)
			}
			res, err := ProgTestRun(fd, ProgRunOptions{DataIn: make([]byte, 64), DataOut: make([]byte, 128), Repeat: 3})
			if err != nil {
				t.Fatal(err)
			}
			if res.Retval != 7 || len(res.DataOut) != 64 {
				t.Errorf("retval %d, %d bytes out", res.Retval, len(res.DataOut))
			}
		})
	}
}

func TestStreamRead(t *testing.T) {
	requireRoot(t)
	fd, _, err := ProgLoad(retProg(0), ProgLoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	tests := []struct {
		stream uint32
		want   error
	}{
		{StreamStdout, nil},
		{StreamStderr, nil},
		{0, unix.ENOENT},
		{3, unix.ENOENT},
	}
	for _, tt := range tests {
		out, err := ProgStreamRead(fd, tt.stream)
		if errors.Is(err, ErrNoStreams) {
			t.Skip("kernel without program streams")
		}
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) || len(out) != 0 {
			t.Errorf("stream %d: %q, %v; want nothing, %v", tt.stream, out, err, tt.want)
		}
	}
}

func TestBTFLoadLog(t *testing.T) {
	requireRoot(t)
	// A header that promises more type bytes than there are.
	raw := make([]byte, 24)
	binary.LittleEndian.PutUint16(raw, 0xeb9f)
	raw[2] = 1
	binary.LittleEndian.PutUint32(raw[4:], 24)
	binary.LittleEndian.PutUint32(raw[12:], 100)
	_, err := BTFLoad(raw)
	var le *LoadError
	if !errors.As(err, &le) || le.Log == "" {
		t.Fatalf("err %v, want a *LoadError with the BTF log", err)
	}
	t.Logf("%v: %s", err, le.Log)
}
