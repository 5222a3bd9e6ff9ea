package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenObject(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := runCmd(t, "gen", "--package", "list", "--ident", "List", "--out", dir, repoPath("bpf", "examples", "list.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	src, err := os.ReadFile(filepath.Join(dir, "list_bpfarena.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"package list", "type ListListNode struct", "Next  arena.Ptr[ListListNode]",
		"//go:embed list.bpf.o", "func LoadList(opts bpfarena.Options) (*ListObjects, error)",
		"*bpfarena.Var[arena.Ptr[ListListNode]] // head (.bss)"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	obj, _ := os.ReadFile(filepath.Join(dir, "list.bpf.o"))
	orig, _ := os.ReadFile(repoPath("bpf", "examples", "list.bpf.o"))
	if !bytes.Equal(obj, orig) {
		t.Error("the object was not copied beside the generated file")
	}
}

// Given BPF C, gen compiles it with the project's headers on the include
// path, into the same bytes wherever it runs.
func TestGenSource(t *testing.T) {
	for _, tool := range []string{"clang-19"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf-dev not installed (bpf/bpf_helpers.h)")
	}
	src, err := os.ReadFile(repoPath("bpf", "examples", "list.bpf.c"))
	if err != nil {
		t.Fatal(err)
	}
	var outs [][]byte
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "bpf"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "bpf", "list.bpf.c"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		wd, _ := os.Getwd()
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := runCmd(t, "gen", "--package", "main", "--ident", "List", "bpf/list.bpf.c")
		os.Chdir(wd)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		obj, err := os.ReadFile(filepath.Join(dir, "list.bpf.o"))
		if err != nil {
			t.Fatal(err)
		}
		gen, err := os.ReadFile(filepath.Join(dir, "list_bpfarena.go"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(obj, []byte(dir)) || bytes.Contains(obj, []byte("bpfarena-include-")) {
			t.Error("the object names a temporary path")
		}
		outs = append(outs, append(obj, gen...))
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two directories give different bytes")
	}
}

func TestGenBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.bpf.c")
	os.WriteFile(bad, []byte("this is not C"), 0o644)
	for _, args := range [][]string{
		{"gen", repoPath("bpf", "examples", "list.bpf.o")},
		{"gen", "--package", "p", repoPath("bpf", "examples", "list.bpf.o")},
		{"gen", "--package", "p", "--ident", "9", "--out", dir, repoPath("bpf", "examples", "list.bpf.o")},
		{"gen", "--package", "p", "--ident", "X", "--out", dir, "/does/not/exist.o"},
		{"gen", "--package", "p", "--ident", "X", "--out", dir, "--cc", "no-such-clang", bad},
	} {
		_, errOut, code := runCmd(t, args...)
		if code == 0 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q; want a failure with a message", args, code, errOut)
		}
	}
}
