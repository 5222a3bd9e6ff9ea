//go:build linux

package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/sys"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		name   string
		stderr string
		want   []engine.Fault
		rest   string
	}{
		{"empty", "", nil, ""},
		{"other output", "hello\n", nil, "hello\n"},
		{
			name: "write with source line",
			stderr: "ERROR: Arena WRITE access at unmapped address 0x100000002008\n" +
				"CPU: 1 UID: 0 PID: 42 Comm: test\n" +
				"Call trace:\n" +
				"bpf_prog_0123456789abcdef_build+0x42/0x100\n" +
				"  *p = 1; @ htab.bpf.c:31\n" +
				"bpf_prog_run+0x10/0x20\n",
			want: []engine.Fault{{Program: "p", Kind: engine.FaultWrite, Address: 0x100000002008, Insn: -1, Line: "htab.bpf.c:31"}},
		},
		{
			name: "two reads",
			stderr: "ERROR: Arena READ access at unmapped address 0x7f0000001000\nCPU: 0 UID: 0 PID: 1 Comm: x\nCall trace:\n" +
				"ERROR: Arena READ access at unmapped address 0x7f0000003000\nCPU: 0 UID: 0 PID: 1 Comm: x\n",
			want: []engine.Fault{
				{Program: "p", Kind: engine.FaultRead, Address: 0x7f0000001000, Insn: -1},
				{Program: "p", Kind: engine.FaultRead, Address: 0x7f0000003000, Insn: -1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest := parseFaults("p", tt.stderr)
			if len(got) != len(tt.want) || rest != tt.rest {
				t.Fatalf("faults %+v rest %q, want %+v rest %q", got, rest, tt.want, tt.rest)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("fault %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestKernelMapName(t *testing.T) {
	tests := []struct {
		obj  string
		m    object.MapSpec
		want string
	}{
		{"htab", object.MapSpec{Name: ".bss", Section: ".bss"}, "htab.bss"},
		{"verylongobjectname", object.MapSpec{Name: ".bss", Section: ".bss"}, "verylong.bss"},
		{"verylongobjectname", object.MapSpec{Name: ".rodata", Section: ".rodata"}, "verylong.rodata"},
		{"verylongobjectname", object.MapSpec{Name: ".kconfig", Section: ".kconfig"}, "verylon.kconfig"},
		{"verylongobjectname", object.MapSpec{Name: ".rodata.str1.1", Section: ".rodata.str1.1"}, ".rodata.str1.1"},
		{"x", object.MapSpec{Name: ".data.custom-1", Section: ".data.custom-1"}, ".data.custom_1"},
		{"x", object.MapSpec{Name: ".rodata.abracadabra", Section: ".rodata.abracadabra"}, ".rodata.abracad"},
		{"x", object.MapSpec{Name: "a_very_long_map_name", Section: ".maps"}, "a_very_long_map"},
		{"x", object.MapSpec{Name: "arena", Type: object.Arena, Section: ".maps"}, "arena"},
	}
	for _, tt := range tests {
		if got := kernelMapName(tt.obj, &tt.m); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.obj, tt.m.Name, got, tt.want)
		}
	}
}

// btfBuilder writes raw BTF for the sanitizer tests.
type btfBuilder struct {
	types, strs []byte
	n           uint32
}

func (b *btfBuilder) str(s string) uint32 {
	if len(b.strs) == 0 {
		b.strs = []byte{0}
	}
	off := uint32(len(b.strs))
	b.strs = append(append(b.strs, s...), 0)
	return off
}

func (b *btfBuilder) add(words ...uint32) uint32 {
	for _, w := range words {
		b.types = binary.LittleEndian.AppendUint32(b.types, w)
	}
	b.n++
	return b.n
}

func (b *btfBuilder) raw() []byte {
	if len(b.strs) == 0 {
		b.strs = []byte{0}
	}
	r := &rawBTF{types: b.types, strs: b.strs}
	return r.bytes()
}

// TestSanitizeBTF builds the BTF clang emits for kfunc and __ksym externs
// and checks that the kernel accepts it only after sanitizing.
func TestSanitizeBTF(t *testing.T) {
	var b btfBuilder
	intID := b.add(b.str("int"), kindInt<<24, 4, 1<<24|32)
	proto := b.add(0, kindFuncProt<<24|2, intID, 0, intID, b.str("named"), intID) // first param unnamed
	fn := b.add(b.str("bpf_some_kfunc"), kindFunc<<24|linkageExtern, proto)
	v := b.add(b.str("some_ksym"), kindVar<<24, intID, linkageExtern)
	b.add(b.str(".ksyms"), kindDatasec<<24|2, 0, fn, 0, 0, v, 0, 0)
	raw := b.raw()

	r, err := parseRawBTF(raw)
	if err != nil {
		t.Fatal(err)
	}
	r.sanitize()
	if got := r.vlen(fn); got != linkageGlobal {
		t.Errorf("func linkage %d, want global", got)
	}
	if got := r.u32(r.offs[v] + btfTypeHeaderLen); got != linkageGlobal {
		t.Errorf("var linkage %d, want global allocated", got)
	}
	if r.u32(r.offs[proto]+btfTypeHeaderLen) == 0 {
		t.Error("unnamed parameter left unnamed")
	}
	sec := r.offs[fn+2]
	if size := r.u32(sec + 8); size != 8 {
		t.Errorf(".ksyms size %d, want 8", size)
	}
	if t0 := r.u32(sec + btfTypeHeaderLen); r.kind(t0) != kindVar {
		t.Errorf(".ksyms entry 0 is kind %d, want a VAR", r.kind(t0))
	}
	if _, err := btf.LoadSpecFromReader(bytesReader(r.bytes())); err != nil {
		t.Errorf("sanitized BTF does not parse: %v", err)
	}

	if os.Geteuid() != 0 {
		t.Skip("loading BTF needs root")
	}
	if fd, err := sys.BTFLoad(raw); err == nil {
		fd.Close()
		t.Error("the kernel accepted extern linkage")
	}
	fd, err := sys.BTFLoad(r.bytes())
	if err != nil {
		var le *sys.LoadError
		errors.As(err, &le)
		t.Fatalf("sanitized BTF refused: %v\n%s", err, le.Log)
	}
	fd.Close()
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// TestKernelBTFResolve resolves names in a base BTF and in split BTF on top
// of it, whose ids and string offsets continue the base's, as module BTF
// does.
func TestKernelBTFResolve(t *testing.T) {
	var base btfBuilder
	intID := base.add(base.str("int"), kindInt<<24, 4, 1<<24|32)
	proto := base.add(0, kindFuncProt<<24, intID)
	fnA := base.add(base.str("func_a"), kindFunc<<24|linkageGlobal, proto)
	td := base.add(base.str("btf_trace_x"), kindTypedef<<24, intID)
	vA := base.add(base.str("var_a"), kindVar<<24, intID, linkageGlobal)
	baseRaw := base.raw()

	// The split part: its strings start after the base's.
	split := btfBuilder{strs: []byte{0}}
	strBase := uint32(len(base.strs))
	fnB := split.add(strBase+split.str("func_b"), kindFunc<<24|linkageGlobal, proto)
	splitRaw := split.raw()

	bk, err := openKernelBTF(baseRaw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bk.count(); err != nil || bk.nTypes != vA {
		t.Fatalf("count: %d types, %v", bk.nTypes, err)
	}
	mk, err := openKernelBTF(splitRaw, bk)
	if err != nil {
		t.Fatal(err)
	}
	bk.resolve(idxFunc, "func_a", "func_b", "int")
	bk.resolve(idxTypedef, "btf_trace_x")
	bk.resolve(idxVar, "var_a", "func_a")
	mk.resolve(idxFunc, "func_b")
	tests := []struct {
		k    *kernelBTF
		kind int
		name string
		want uint32
	}{
		{bk, idxFunc, "func_a", fnA},
		{bk, idxFunc, "func_b", 0},
		{bk, idxFunc, "int", 0},
		{bk, idxTypedef, "btf_trace_x", td},
		{bk, idxVar, "var_a", vA},
		{bk, idxVar, "func_a", 0},
		{mk, idxFunc, "func_b", vA + fnB},
	}
	for _, tt := range tests {
		if got, ok := tt.k.ids[symKey{tt.kind, tt.name}]; !ok || got != tt.want {
			t.Errorf("%s (kind %d): %d (cached %v), want %d", tt.name, tt.kind, got, ok, tt.want)
		}
	}
}

// TestMissingExterns checks that a missing non-weak kfunc fails the load
// with ESRCH, as libbpf does, and leaks nothing.
func TestMissingExterns(t *testing.T) {
	requireKernel(t)
	spec, m := arenaSpec(4, 0, 0)
	p := allocWriteProgram(m)
	missing := &object.ExternSpec{Name: "bpf_no_such_kfunc_at_all", Kind: object.ExternKfunc}
	r := p.Relocations[6]
	r.Extern, r.Symbol = missing, missing.Name
	p.Relocations[6] = r
	spec.Programs = []*object.ProgramSpec{p}
	spec.Externs = []*object.ExternSpec{missing}
	warmUp(t)
	fds := countFDs(t)
	c, err := Load(spec, engine.Options{})
	if err == nil {
		c.Close()
		t.Fatal("loaded with a missing kfunc")
	}
	if !errors.Is(err, unix.ESRCH) || !errors.Is(err, errSymNotFound) {
		t.Errorf("error %v, want ESRCH", err)
	}
	if n := countFDs(t); n != fds {
		t.Errorf("leaked %d fds", n-fds)
	}
}
