package kconfig

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

func TestParseVersion(t *testing.T) {
	for rel, want := range map[string]uint32{
		"6.18.44-fc-v669": 6<<16 | 18<<8 | 44,
		"6.9.0":           6<<16 | 9<<8,
		"5.15.300":        5<<16 | 15<<8 | 255,
		"6.1":             6<<16 | 1<<8,
		"garbage":         0,
	} {
		if got := ParseVersion(rel); got != want {
			t.Errorf("ParseVersion(%q) = %#x, want %#x", rel, got, want)
		}
	}
}

func TestFill(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	boolT := &btf.Int{Name: "bool", Size: 1, Encoding: btf.Bool}
	charT := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	tri := &btf.Enum{Name: "libbpf_tristate", Size: 4}
	str := &btf.Array{Type: charT, Nelems: 8}
	externs := []*object.ExternSpec{
		{Name: "CONFIG_NR_CPUS", Kind: object.ExternKconfig, Type: u32, Offset: 0},
		{Name: "CONFIG_BPF", Kind: object.ExternKconfig, Type: boolT, Offset: 4},
		{Name: "CONFIG_XFS_FS", Kind: object.ExternKconfig, Type: tri, Offset: 8},
		{Name: "CONFIG_LOCALVERSION", Kind: object.ExternKconfig, Type: str, Offset: 12},
		{Name: "CONFIG_DEBUG_INFO", Kind: object.ExternKconfig, Type: charT, Offset: 20},
		{Name: "LINUX_KERNEL_VERSION", Kind: object.ExternKconfig, Type: u32, Offset: 24},
		{Name: "CONFIG_ABSENT", Kind: object.ExternKconfig, Type: u32, Offset: 28, Weak: true},
	}
	c := Config{Version: 6<<16 | 18<<8 | 44, Values: map[string]string{
		"CONFIG_NR_CPUS": "64", "CONFIG_BPF": "y", "CONFIG_XFS_FS": "m",
		"CONFIG_LOCALVERSION": `"-fc"`, "CONFIG_DEBUG_INFO": "y",
	}}
	data := make([]byte, 32)
	if err := Fill(data, externs, c, true); err != nil {
		t.Fatal(err)
	}
	want := []byte{64, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, '-', 'f', 'c', 0, 0, 0, 0, 0, 'y', 0, 0, 0, 44, 18, 6, 0, 0, 0, 0, 0}
	if string(data) != string(want) {
		t.Fatalf("filled\n%v\nwant\n%v", data, want)
	}

	missing := []*object.ExternSpec{{Name: "CONFIG_NOPE", Kind: object.ExternKconfig, Type: u32}}
	if err := Fill(data, missing, c, true); !errors.Is(err, ErrMissing) || !errors.Is(err, syscall.ESRCH) {
		t.Errorf("strict fill of a missing name: %v", err)
	}
	if err := Fill(data, missing, c, false); err != nil {
		t.Errorf("lenient fill of a missing name: %v", err)
	}
	bad := []*object.ExternSpec{{Name: "CONFIG_BPF", Kind: object.ExternKconfig, Type: boolT, Offset: 40}}
	if err := Fill(data, bad, c, true); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Errorf("out of range: %v", err)
	}
}

func TestPut(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	boolT := &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}
	u64 := &btf.Int{Name: "u64", Size: 8}
	str := &btf.Array{Type: &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}, Nelems: 8}
	tests := []struct {
		val     string
		typ     btf.Type
		want    []byte
		wantErr bool
	}{
		{"y", boolT, []byte{1}, false},
		{"n", boolT, []byte{0}, false},
		{"m", boolT, nil, true},
		{"m", u32, []byte{2, 0, 0, 0}, false},
		{"64", u32, []byte{64, 0, 0, 0}, false},
		{"0x10", u64, []byte{16, 0, 0, 0, 0, 0, 0, 0}, false},
		{`"abc"`, str, []byte("abc\x00\x00\x00\x00\x00"), false},
		{`"abcdefghij"`, str, []byte("abcdefg\x00"), false},
		{"abc", u32, nil, true},
	}
	for _, tt := range tests {
		data := make([]byte, 12)
		for i := range data {
			data[i] = 0xee
		}
		err := Put(data, &object.ExternSpec{Name: "CONFIG_X", Kind: object.ExternKconfig, Type: tt.typ, Offset: 2}, tt.val)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v", tt.val, err)
			continue
		}
		if err == nil && string(data[2:2+len(tt.want)]) != string(tt.want) {
			t.Errorf("%s: %x, want %x", tt.val, data[2:2+len(tt.want)], tt.want)
		}
		if data[0] != 0xee || data[1] != 0xee {
			t.Errorf("%s: wrote before its offset", tt.val)
		}
	}
}
