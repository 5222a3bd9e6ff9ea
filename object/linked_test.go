package object

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// bpftoolPath finds bpftool for linking: $BPFARENA_BPFTOOL, the one
// .ci/selftests.sh extracts, or PATH.
func bpftoolPath() string {
	if p := os.Getenv("BPFARENA_BPFTOOL"); p != "" {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "bpfarena", "selftests", "bpftool", "usr", "sbin", "bpftool")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("bpftool")
	return p
}

// Two objects linked by libbpf's linker (bpftool gen object), each with
// a static of the same name in .rodata: the linker lays the DATASEC out
// (size and offsets), and the loader must keep its offsets rather than
// look the variables up by name, which gives the second the first's
// offset and makes the kernel refuse the BTF ("Invalid offset").
func TestLinkedDuplicateStatics(t *testing.T) {
	tool := bpftoolPath()
	if tool == "" {
		t.Skip("no bpftool to link with (.ci/selftests.sh extracts one; or set BPFARENA_BPFTOOL)")
	}
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("no clang-19")
	}
	dir := t.TempDir()
	var objs []string
	for _, src := range []string{"a", "b"} {
		out := filepath.Join(dir, src+".o")
		cmd := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", "../bpf/include",
			"-idirafter", "/usr/include/x86_64-linux-gnu", "-c", filepath.Join("testdata", "linked", src+".bpf.c"), "-o", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("clang: %v\n%s", err, b)
		}
		objs = append(objs, out)
	}
	linked := filepath.Join(dir, "linked.o")
	if b, err := exec.Command(tool, append([]string{"gen", "object", linked}, objs...)...).CombinedOutput(); err != nil {
		t.Fatalf("bpftool gen object: %v\n%s", err, b)
	}
	spec, err := Load(linked)
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseRawBTF(spec.RawBTF)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := r.datasecs()[".rodata"]
	if !ok {
		t.Fatal("no .rodata DATASEC")
	}
	seen := map[uint32]bool{}
	n := 0
	for _, v := range r.secinfos(id) {
		if r.byID[v.Type].name != "fmt" {
			continue
		}
		n++
		if seen[v.Offset] {
			t.Errorf("two fmt variables at offset %d", v.Offset)
		}
		seen[v.Offset] = true
	}
	if n != 2 {
		t.Fatalf("%d fmt variables in .rodata, want 2", n)
	}
}
