package conformance

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/object"
)

// TestRandomCCase compiles the C that CCase prints, for random programs
// and the regression cases, with clang, and checks that the object holds
// the same instructions.
func TestRandomCCase(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not installed")
	}
	// bpfarena.h includes <bpf/bpf_helpers.h> from libbpf-dev.
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf-dev not installed (no /usr/include/bpf/bpf_helpers.h)")
	}
	_, file, _, _ := runtime.Caller(0)
	include := filepath.Join(filepath.Dir(file), "..", "..", "bpf", "include")
	dir := t.TempDir()
	var specs []*object.Spec
	for seed := int64(0); seed < 10; seed++ {
		specs = append(specs, Generate(rand.New(rand.NewSource(seed)), GenConfig{Disable: GenMapValue}))
	}
	for _, tc := range randomRegressions {
		specs = append(specs, SpecFromCase(tc.insns, tc.relocs, tc.pages, tc.flags, tc.contents))
	}
	for i, spec := range specs {
		src := filepath.Join(dir, fmt.Sprintf("case%d.bpf.c", i))
		obj := src[:len(src)-2] + ".o"
		if err := os.WriteFile(src, []byte(CCase(spec)), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-O2", "-g", "-target", "bpf", "-mcpu=v4", "-I", include, "-c", src, "-o", obj}
		for _, d := range []string{"/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu"} {
			if _, err := os.Stat(filepath.Join(d, "asm", "types.h")); err == nil {
				args = append(args, "-idirafter", d)
			}
		}
		if out, err := exec.Command(clang, args...).CombinedOutput(); err != nil {
			t.Fatalf("case %d: clang: %v\n%s\n%s", i, err, out, CCase(spec))
		}
		got, err := bpfarena.LoadSpec(obj)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if a, ga := spec.Arena(), got.Arena(); ga == nil || !bytes.Equal(ga.Contents, a.Contents) && len(a.Contents)+len(ga.Contents) > 0 {
			t.Errorf("case %d: arena globals image differs", i)
		}
		want := spec.Programs[0]
		gp := got.Program(RandomProgram)
		if gp == nil {
			t.Fatalf("case %d: no program %s in the object", i, RandomProgram)
		}
		if len(gp.Instructions) != len(want.Instructions) {
			t.Fatalf("case %d: %d instructions, want %d", i, len(gp.Instructions), len(want.Instructions))
		}
		for j, ins := range gp.Instructions {
			w := want.Instructions[j]
			if _, ok := want.Relocations[j]; ok {
				// Load-time values: compare what the object says instead.
				if r, ok := gp.Relocations[j]; !ok || relocName(r) != relocName(want.Relocations[j]) {
					t.Errorf("case %d: instruction %d: relocation %v, want %v", i, j, gp.Relocations[j], want.Relocations[j])
				}
				ins.Constant, w.Constant, ins.Offset, w.Offset = 0, 0, 0, 0
			}
			if ins != w {
				t.Errorf("case %d: instruction %d: clang made %v (%#v), want %v (%#v)", i, j, ins, ins, w, w)
			}
		}
	}
}
