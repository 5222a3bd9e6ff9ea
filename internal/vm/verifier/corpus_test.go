package verifier

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

// expectations are a program's test annotations (the kernel selftests'
// convention, as BTF decl tags).
type expectations struct {
	success, failure bool
	msgs             []string
	min, max         kversion.Version // the kernels the expectation holds for
}

// holds reports whether the expectation is about kernel v.
func (e expectations) holds(v kversion.Version) bool {
	return (e.min.IsZero() || !v.Less(e.min)) && (e.max.IsZero() || !e.max.Less(v))
}

func parseTags(tags []string) expectations {
	var e expectations
	for _, t := range tags {
		t, ok := strings.CutPrefix(t, "comment:")
		if !ok {
			continue
		}
		switch {
		case t == "test_expect_success":
			e.success = true
		case t == "test_expect_failure":
			e.failure = true
		case strings.HasPrefix(t, "bpfarena_kernel_min="):
			e.min, _ = kversion.ParseVersion(strings.TrimPrefix(t, "bpfarena_kernel_min="))
		case strings.HasPrefix(t, "bpfarena_kernel_max="):
			e.max, _ = kversion.ParseVersion(strings.TrimPrefix(t, "bpfarena_kernel_max="))
		case strings.HasPrefix(t, "test_expect_msg="):
			m := strings.TrimPrefix(t, "test_expect_msg=")
			// Newer form: <n>=<text>, n being the message's rank.
			if i := strings.IndexByte(m, '='); i > 0 && strings.Trim(m[:i], "0123456789") == "" {
				m = m[i+1:]
			}
			e.msgs = append(e.msgs, m)
		}
	}
	return e
}

// TestCorpus verifies every annotated program of the conformance corpus
// and of testdata (cases of this package, built from testdata/*.bpf.c by
// clang-19 -O2 -g -target bpf -mcpu=v4) and checks the verdict, and for
// rejections the messages, against the annotations, which are the verdicts
// of the kernels each names (all modelled ones by default), under the
// model of each of them.
func TestCorpus(t *testing.T) {
	corpus, _ := filepath.Glob("../../../bpf/corpus/*.bpf.o")
	local, _ := filepath.Glob("testdata/*.bpf.o")
	if len(local) == 0 {
		t.Fatal("no testdata objects")
	}
	files := append(corpus, local...)
	for _, f := range files {
		spec, err := object.Load(f)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		for _, p := range spec.Programs {
			e := parseTags(p.Tags)
			if strings.HasPrefix(filepath.Base(f), "k618_") && e.min.IsZero() && e.max.IsZero() {
				// This package's own cases, measured on Linux 6.18.
				e.min, e.max = kversion.V(6, 18), kversion.V(6, 18)
			}
			if !e.success && !e.failure {
				continue
			}
			for _, k := range kversion.Models {
				if !e.holds(k.Version) {
					continue
				}
				t.Run(filepath.Base(f)+"/"+p.Name+"/"+k.Version.String(), func(t *testing.T) {
					_, err := Verify(p, Env{ArenaFixed: true, LogLevel: 1, Kernel: k, MapStruct: objectMapStructs(spec)})
					if e.success {
						if err != nil {
							t.Fatalf("rejected: %v\n%s", err, logOf(err))
						}
						return
					}
					var ve *Error
					if !errors.As(err, &ve) {
						t.Fatalf("accepted (err %v), want a rejection with %q", err, e.msgs)
					}
					rest := ve.Log
					for _, m := range e.msgs {
						i := strings.Index(rest, m)
						if i < 0 {
							t.Errorf("log lacks %q (in order)\nlog:\n%s", m, ve.Log)
							break
						}
						rest = rest[i+len(m):]
					}
				})
			}
		}
	}
}

// objectMapStructs finds map structs in the object's own BTF: the programs
// here are not CO-RE relocated, so their offsets are the object's.
func objectMapStructs(spec *object.Spec) func(*object.MapSpec) *btf.Struct {
	return func(ms *object.MapSpec) *btf.Struct {
		if spec.BTF == nil {
			return nil
		}
		for _, name := range []string{MapStructName(ms.Type), "bpf_map"} {
			var st *btf.Struct
			if spec.BTF.TypeByName(name, &st) == nil {
				return st
			}
		}
		return nil
	}
}
