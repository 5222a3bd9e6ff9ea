package matrix

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestArchive(t *testing.T) {
	a := newArchive()
	a.addBytes("work/bpf/corpus/x.bpf.o", 0o644, []byte("abcde"))
	a.addBytes("init", 0o755, []byte("ELF"))
	var b1, b2 bytes.Buffer
	if err := a.writeTo(&b1); err != nil {
		t.Fatal(err)
	}
	if err := a.writeTo(&b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Error("the same archive gave different bytes")
	}
	if b1.Len()%4 != 0 {
		t.Errorf("archive of %d bytes is not 4-byte aligned", b1.Len())
	}
	// Parents come before children, and the trailer last.
	var names []string
	data := b1.Bytes()
	for len(data) >= 110 {
		if string(data[:6]) != "070701" {
			t.Fatalf("bad magic %q", data[:6])
		}
		var size, nameLen uint32
		fmt.Sscanf(string(data[54:62]), "%08X", &size)
		fmt.Sscanf(string(data[94:102]), "%08X", &nameLen)
		name := string(data[110 : 110+nameLen-1])
		names = append(names, name)
		off := (110 + int(nameLen) + 3) &^ 3
		off += (int(size) + 3) &^ 3
		data = data[off:]
		if name == "TRAILER!!!" {
			break
		}
	}
	want := "work work/bpf work/bpf/corpus init work/bpf/corpus/x.bpf.o TRAILER!!!"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries %q, want %q", got, want)
	}
}

func TestExitStatus(t *testing.T) {
	for _, tt := range []struct {
		console string
		code    int
		ok      bool
	}{
		{"[    0.1] booting\r\n" + statusPrefix + "0\r\n", 0, true},
		{"x\n" + statusPrefix + "1\n[ 2.0] reboot: Restarting system\n", 1, true},
		{"Kernel panic - not syncing\n", 0, false},
	} {
		code, ok := exitStatus([]byte(tt.console))
		if code != tt.code || ok != tt.ok {
			t.Errorf("exitStatus(%q) = %d, %v; want %d, %v", tt.console, code, ok, tt.code, tt.ok)
		}
	}
}

func TestNewestPackage(t *testing.T) {
	names := []string{"linux-image-6.1.0-9-amd64", "linux-image-6.1.0-57-amd64", "linux-image-6.1.0-10-amd64"}
	best := names[0]
	for _, n := range names[1:] {
		if versionLess(best, n) {
			best = n
		}
	}
	if best != "linux-image-6.1.0-57-amd64" {
		t.Errorf("newest %s", best)
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("6.12"); err != nil {
		t.Error(err)
	}
	if _, err := Lookup("5.15"); err == nil || !strings.Contains(err.Error(), "6.1, 6.12, 7.3") {
		t.Errorf("unknown kernel: %v", err)
	}
}
