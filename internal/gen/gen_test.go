package gen

import (
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena/object"
)

func repo(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

func TestCamel(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"list_node", "ListNode"},
		{"__u64", "U64"},
		{"MODE_A", "MODE_A"},
		{"a__b", "AB"},
		{"x1_y", "X1Y"},
		{"_", "X"},
		{"_1x", "X1x"},
		{"already", "Already"},
	} {
		if got := camel(c.in); got != c.want {
			t.Errorf("camel(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Every object of the project generates, gofmt-clean and byte for byte
// the same on a second run.
func TestGenerateEveryObject(t *testing.T) {
	var objs []string
	for _, dir := range []string{"examples", "corpus", "gen"} {
		m, _ := filepath.Glob(repo("bpf", dir, "*.bpf.o"))
		objs = append(objs, m...)
	}
	if len(objs) < 20 {
		t.Fatalf("found only %d objects", len(objs))
	}
	for _, path := range objs {
		spec, err := object.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		args := Args{Package: "p", Ident: "X", Object: filepath.Base(path), Spec: spec}
		a, err := Generate(args)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		b, _ := Generate(args)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ", path)
		}
		if f, err := format.Source(a); err != nil || !bytes.Equal(f, a) {
			t.Errorf("%s: output is not gofmt-clean (%v)", path, err)
		}
		if bytes.Contains(a, []byte(repo())) || bytes.Contains(a, []byte("/work/")) {
			t.Errorf("%s: output names a path of this machine", path)
		}
	}
}

func TestBadArgs(t *testing.T) {
	spec, err := object.Load(repo("bpf", "gen", "shapes.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []Args{
		{Package: "p", Ident: "1x", Object: "o.o", Spec: spec},
		{Package: "p q", Ident: "X", Object: "o.o", Spec: spec},
		{Package: "p", Ident: "X", Object: "o\".o", Spec: spec},
		{Package: "p", Ident: "X", Object: "o.o", Spec: spec, Types: []string{"no_such_type"}},
		{Package: "p", Ident: "X", Object: "o.o", Spec: spec, Types: []string{"struct mode"}},
	} {
		if _, err := Generate(a); err == nil {
			t.Errorf("%+v: no error", a)
		}
	}
	out, err := Generate(Args{Package: "p", Ident: "X", Object: "o.o", Spec: spec, Types: []string{"word", "enum mode"}})
	if err != nil || !bytes.Contains(out, []byte("type XWord struct")) {
		t.Errorf("--type by bare name: %v", err)
	}
}

// The skeletons of two objects in one package of a module of their own,
// written by go generate through the module's replace: go vet passes, and a test using the generated names reads and writes
// every shape of bpf/gen/shapes.bpf.c through them.
func TestSkeletonModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		t.Skipf("no go command: %v", err)
	}
	root, err := filepath.Abs(repo())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/shapes\n\ngo 1.26\n\nrequire github.com/bpfarena/bpfarena v0.0.0\n\nreplace github.com/bpfarena/bpfarena => " + root + "\n"
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", []byte(gomod))
	sum, err := os.ReadFile(repo("go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", sum)
	// The objects come from elsewhere: gen copies them beside the
	// skeletons, run as a user runs it, by go generate in the module.
	gen := "package shapes\n\n"
	for _, o := range []struct{ ident, path string }{
		{"Shapes", repo("bpf", "gen", "shapes.bpf.o")},
		{"List", repo("bpf", "examples", "list.bpf.o")},
	} {
		abs, err := filepath.Abs(o.path)
		if err != nil {
			t.Fatal(err)
		}
		gen += "//go:generate go run github.com/bpfarena/bpfarena/cmd/bpfarena gen --package shapes --ident " + o.ident + " " + abs + "\n"
	}
	write("gen.go", []byte(gen))
	// Every object of the project, each in a package of its own: the
	// skeletons compile and vet.
	var objs []string
	for _, d := range []string{"examples", "corpus"} {
		m, _ := filepath.Glob(repo("bpf", d, "*.bpf.o"))
		objs = append(objs, m...)
	}
	for _, o := range objs {
		name := strings.TrimSuffix(filepath.Base(o), ".bpf.o")
		pkgDir := filepath.Join(dir, "all", name)
		if err := os.MkdirAll(pkgDir, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := object.Load(o)
		if err != nil {
			t.Fatal(err)
		}
		src, err := Generate(Args{Package: "p", Ident: "x", Object: filepath.Base(o), Spec: spec})
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		for f, data := range map[string][]byte{filepath.Base(o): b, FileName("x"): src,
			"use.go": []byte("package p\n\nvar _ = loadX\n")} {
			if err := os.WriteFile(filepath.Join(pkgDir, f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	test, err := os.ReadFile(filepath.Join("testdata", "shapes_test.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	write("shapes_test.go", test)
	for _, args := range [][]string{{"generate", "./..."}, {"vet", "./..."}, {"test", "-count=1", "./..."}} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "generate" {
			for _, f := range []string{"shapes_bpfarena.go", "list_bpfarena.go"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte(root)) {
					t.Errorf("%s names the path %s", f, root)
				}
			}
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	spec, err := object.Load(repo("bpf", "gen", "shapes.bpf.o"))
	if err != nil {
		b.Fatal(err)
	}
	args := Args{Package: "p", Ident: "X", Object: "shapes.bpf.o", Spec: spec}
	for b.Loop() {
		if _, err := Generate(args); err != nil {
			b.Fatal(err)
		}
	}
}
