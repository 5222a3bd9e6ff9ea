package object

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/cilium/ebpf/btf"
)

func TestSectionProgramInfo(t *testing.T) {
	tests := []struct {
		section   string
		typ       ProgramType
		attach    AttachType
		to        string
		sleepable bool
		flags     uint32
	}{
		{"syscall", Syscall, AttachNone, "", true, ProgFlagSleepable},
		{"tc", SchedCLS, AttachNone, "", false, 0},
		{"classifier", SchedCLS, AttachNone, "", false, 0},
		{"tc/ingress", SchedCLS, AttachTCXIngress, "", false, 0},
		{"tcx/ingress", SchedCLS, AttachTCXIngress, "", false, 0},
		{"tcx/egress", SchedCLS, AttachTCXEgress, "", false, 0},
		{"xdp", XDP, AttachXDP, "", false, 0},
		{"xdp.frags", XDP, AttachXDP, "", false, ProgFlagXDPHasFrags},
		{"xdp/devmap", XDP, AttachXDPDevmap, "", false, 0},
		{"socket", SocketFilter, AttachNone, "", false, 0},
		{"raw_tp/sys_enter", RawTracepoint, AttachNone, "sys_enter", false, 0},
		{"raw_tracepoint/sys_enter", RawTracepoint, AttachNone, "sys_enter", false, 0},
		{"tp/syscalls/sys_enter_getpid", TracePoint, AttachNone, "syscalls/sys_enter_getpid", false, 0},
		{"tracepoint/syscalls/sys_enter_getpid", TracePoint, AttachNone, "syscalls/sys_enter_getpid", false, 0},
		{"kprobe/do_sys_open", Kprobe, AttachNone, "do_sys_open", false, 0},
		{"kretprobe/do_sys_open", Kprobe, AttachNone, "do_sys_open", false, 0},
		{"uprobe/bin:func", Kprobe, AttachNone, "bin:func", false, 0},
		{"uprobe.s/bin:func", Kprobe, AttachNone, "bin:func", true, ProgFlagSleepable},
		{"uretprobe.s/bin:func", Kprobe, AttachNone, "bin:func", true, ProgFlagSleepable},
		{"fentry/bpf_fentry_test1", Tracing, AttachTraceFEntry, "bpf_fentry_test1", false, 0},
		{"fexit/bpf_fentry_test1", Tracing, AttachTraceFExit, "bpf_fentry_test1", false, 0},
		{"fmod_ret/bpf_modify_return_test", Tracing, AttachModifyReturn, "bpf_modify_return_test", false, 0},
		{"fentry.s/bpf_fentry_test1", Tracing, AttachTraceFEntry, "bpf_fentry_test1", true, ProgFlagSleepable},
		{"fexit.s/x", Tracing, AttachTraceFExit, "x", true, ProgFlagSleepable},
		{"iter/task", Tracing, AttachTraceIter, "task", false, 0},
		{"iter.s/task", Tracing, AttachTraceIter, "task", true, ProgFlagSleepable},
		{"struct_ops/init", StructOps, AttachNone, "init", false, 0},
		{"struct_ops.s/init", StructOps, AttachNone, "init", true, ProgFlagSleepable},
		{"struct_ops", StructOps, AttachNone, "", false, 0},
		{"lsm/file_open", LSM, AttachLSMMac, "file_open", false, 0},
		{"lsm.s/file_open", LSM, AttachLSMMac, "file_open", true, ProgFlagSleepable},
		{"tp_btf/sched_switch", Tracing, AttachTraceRawTp, "sched_switch", false, 0},
		// exact names do not match longer ones
		{"syscallx", UnspecifiedProgram, AttachNone, "", false, 0},
		{"tc/other", UnspecifiedProgram, AttachNone, "", false, 0},
		{"kprobex", UnspecifiedProgram, AttachNone, "", false, 0},
		{"my_section", UnspecifiedProgram, AttachNone, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.section, func(t *testing.T) {
			p := &ProgramSpec{Section: tt.section}
			sectionProgramInfo(p)
			got := []any{p.Type, p.AttachType, p.AttachTo, p.Sleepable, p.Flags}
			want := []any{tt.typ, tt.attach, tt.to, tt.sleepable, tt.flags}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestProgramsFromSections(t *testing.T) {
	src := `
SEC("syscall") int a(void *ctx) { return 0; }
SEC("syscall") int b(void *ctx) { return 1; }
SEC("xdp.frags") int c(void *ctx) { return 2; }
SEC("tcx/egress") int d(void *ctx) { return 0; }
SEC("tp/syscalls/sys_enter_getpid") int e(void *ctx) { return 0; }
SEC("fentry.s/bpf_fentry_test1") int f(void *ctx) { return 0; }
SEC("iter/task") int g(void *ctx) { return 0; }
SEC("lsm.s/file_open") int h(void *ctx) { return 0; }
SEC("raw_tp/sys_enter") int i(void *ctx) { return 0; }
`
	spec := mustLoad(t, "sections", src)
	want := []struct {
		name, section string
		typ           ProgramType
		attach        AttachType
		sleepable     bool
	}{
		{"a", "syscall", Syscall, AttachNone, true},
		{"b", "syscall", Syscall, AttachNone, true},
		{"c", "xdp.frags", XDP, AttachXDP, false},
		{"d", "tcx/egress", SchedCLS, AttachTCXEgress, false},
		{"e", "tp/syscalls/sys_enter_getpid", TracePoint, AttachNone, false},
		{"f", "fentry.s/bpf_fentry_test1", Tracing, AttachTraceFEntry, true},
		{"g", "iter/task", Tracing, AttachTraceIter, false},
		{"h", "lsm.s/file_open", LSM, AttachLSMMac, true},
		{"i", "raw_tp/sys_enter", RawTracepoint, AttachNone, false},
	}
	if len(spec.Programs) != len(want) {
		t.Fatalf("%d programs, want %d", len(spec.Programs), len(want))
	}
	for i, w := range want {
		p := spec.Programs[i]
		if p.Name != w.name || p.Section != w.section || p.Type != w.typ || p.AttachType != w.attach || p.Sleepable != w.sleepable {
			t.Errorf("program %d: got %s %s %d %d %v, want %+v", i, p.Name, p.Section, p.Type, p.AttachType, p.Sleepable, w)
		}
		if p.License != "GPL" {
			t.Errorf("%s: license %q", p.Name, p.License)
		}
	}
	if spec.License != "GPL" {
		t.Errorf("license %q", spec.License)
	}
}

// callTargets decodes the encoded linked program and returns, for each
// call to a subprogram or function pointer, the name of the function its
// relative offset lands on. It fails if one lands anywhere but on the
// first instruction of a function of the program.
func callTargets(t *testing.T, p *ProgramSpec) []string {
	t.Helper()
	insns, err := asm.DecodeUnchecked(p.Instructions.Encode(nil))
	if err != nil {
		t.Fatalf("%s: decoding the linked program: %v", p.Name, err)
	}
	bySlot := make(map[int]string)
	for _, f := range p.Funcs {
		bySlot[f.Slot] = f.Name
		if p.Instructions[f.Index].OpCode == 0 && f.Index != 0 {
			t.Errorf("%s: func %s index %d", p.Name, f.Name, f.Index)
		}
	}
	var targets []string
	slot := 0
	for _, ins := range insns {
		isCall := ins.OpCode == 0x85 && ins.Src == asm.PseudoCall
		isFunc := ins.OpCode == 0x18 && ins.Src == asm.PseudoFunc
		if isCall || isFunc {
			imm := int(int32(ins.Constant))
			if isFunc && uint64(ins.Constant)>>32 != 0 {
				t.Errorf("%s: function pointer at slot %d has a non-zero second imm", p.Name, slot)
			}
			name, ok := bySlot[slot+imm+1]
			if !ok {
				t.Errorf("%s: call at slot %d lands on slot %d, no function starts there", p.Name, slot, slot+imm+1)
			}
			targets = append(targets, name)
		}
		slot += ins.Size() / asm.InstructionSize
	}
	return targets
}

func TestLinking(t *testing.T) {
	spec := mustLoad(t, "full", testSources["full"])
	tests := []struct {
		prog    string
		funcs   []string // in the order they are appended
		targets []string // calls and function pointers in instruction order
	}{
		{"prog1", []string{"prog1", "cb", "sub", "mid", "gfun", "leaf"}, []string{"cb", "sub", "mid", "gfun", "leaf"}},
		{"prog2", []string{"prog2", "sub", "mid", "leaf"}, []string{"sub", "mid", "leaf"}},
		{"xprog", []string{"xprog", "cb"}, []string{"cb"}},
	}
	for _, tt := range tests {
		t.Run(tt.prog, func(t *testing.T) {
			p := spec.Program(tt.prog)
			if p == nil {
				t.Fatal("missing")
			}
			var funcs []string
			for _, f := range p.Funcs {
				funcs = append(funcs, f.Name)
			}
			if !slices.Equal(funcs, tt.funcs) {
				t.Errorf("funcs %v, want %v", funcs, tt.funcs)
			}
			if got := callTargets(t, p); !slices.Equal(got, tt.targets) {
				t.Errorf("call targets %v, want %v", got, tt.targets)
			}
			// Slots and indexes agree.
			slot := 0
			for i, ins := range p.Instructions {
				if f := p.FuncAt(i); f != nil && f.Index == i && f.Slot != slot {
					t.Errorf("func %s: slot %d, want %d", f.Name, f.Slot, slot)
				}
				slot += ins.Size() / asm.InstructionSize
			}
		})
	}
	// The callback is passed as a function pointer (ld_imm64 src 4).
	p := spec.Program("prog1")
	found := false
	for _, ins := range p.Instructions {
		if ins.OpCode == 0x18 && ins.Src == asm.PseudoFunc {
			found = true
		}
	}
	if !found {
		t.Error("prog1: no ld_imm64 of a function pointer")
	}
}

func TestFuncs(t *testing.T) {
	spec := mustLoad(t, "full", testSources["full"])
	p := spec.Program("prog1")
	tests := []struct {
		name   string
		global bool
		arena  []bool
	}{
		{"prog1", true, []bool{false}},
		{"cb", false, []bool{false, false}},
		{"sub", true, []bool{false}},
		{"mid", false, []bool{false}},
		{"gfun", true, []bool{true, false}},
		{"leaf", false, []bool{false}},
	}
	for i, tt := range tests {
		f := p.Funcs[i]
		if f.Name != tt.name || f.Global != tt.global || !slices.Equal(f.ArenaArgs, tt.arena) {
			t.Errorf("func %d: got %s global=%v arena=%v, want %+v", i, f.Name, f.Global, f.ArenaArgs, tt)
		}
		if f.Type == nil || f.Type.Name != tt.name {
			t.Errorf("func %s: BTF %v", tt.name, f.Type)
			continue
		}
		id, err := spec.BTF.TypeID(f.Type)
		if err != nil || id != f.TypeID || id == 0 {
			t.Errorf("func %s: TypeID %d, BTF says %d (%v)", tt.name, f.TypeID, id, err)
		}
	}
	if want := []string{"comment:test_expect_success", "comment:test_retval=0"}; !slices.Equal(p.Tags, want) {
		t.Errorf("tags %q, want %q", p.Tags, want)
	}
	if tags := spec.Program("prog2").Tags; len(tags) != 0 {
		t.Errorf("prog2 tags %q", tags)
	}
}

func TestMaps(t *testing.T) {
	spec := mustLoad(t, "full", testSources["full"])
	u32 := func(t btf.Type) string {
		if t == nil {
			return ""
		}
		return t.TypeName()
	}
	tests := []struct {
		name                        string
		typ                         MapType
		key, value, max, flags      uint32
		extra                       uint64
		keyType, valueType, section string
		readOnly                    bool
		contents                    []byte
	}{
		{name: "arena", typ: Arena, max: 100, flags: FlagMmapable, extra: 0x100000000000, section: ".maps",
			contents: []byte{11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{name: "hmap", typ: Hash, key: 4, value: 8, max: 16, keyType: "u32", valueType: "u64", section: ".maps"},
		{name: "outer", typ: ArrayOfMaps, key: 4, value: 4, max: 2, section: ".maps"},
		{name: ".data", typ: Array, key: 4, value: 4, max: 1, flags: FlagMmapable, section: ".data", contents: []byte{5, 0, 0, 0}},
		{name: ".rodata", typ: Array, key: 4, value: 4, max: 1, flags: FlagMmapable | FlagRdonlyProg, section: ".rodata", readOnly: true, contents: []byte{7, 0, 0, 0}},
		{name: ".data.extra", typ: Array, key: 4, value: 12, max: 1, flags: FlagMmapable, section: ".data.extra", contents: []byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}},
		{name: ".bss", typ: Array, key: 4, value: 16, max: 1, flags: FlagMmapable, section: ".bss", contents: make([]byte, 16)},
		{name: ".kconfig", typ: Array, key: 4, value: 13, max: 1, flags: FlagMmapable | FlagRdonlyProg, section: ".kconfig", readOnly: true, contents: make([]byte, 13)},
	}
	if len(spec.Maps) != len(tests) {
		t.Errorf("%d maps, want %d", len(spec.Maps), len(tests))
	}
	for i, tt := range tests {
		if i >= len(spec.Maps) {
			break
		}
		m := spec.Maps[i]
		got := []any{m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags, m.MapExtra, u32(m.Key), u32(m.Value), m.Section, m.ReadOnly}
		want := []any{tt.name, tt.typ, tt.key, tt.value, tt.max, tt.flags, tt.extra, tt.keyType, tt.valueType, tt.section, tt.readOnly}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("map %d:\n got %v\nwant %v", i, got, want)
		}
		if !bytes.Equal(m.Contents, tt.contents) {
			t.Errorf("map %s: contents %v, want %v", m.Name, m.Contents, tt.contents)
		}
	}
	if a := spec.Arena(); a == nil || a.Name != "arena" {
		t.Errorf("Arena() = %v", a)
	}
	inner := spec.Map("outer").InnerMap
	if inner == nil || inner.Type != Array || inner.MaxEntries != 4 || inner.KeySize != 4 || inner.ValueSize != 4 {
		t.Errorf("inner map %+v", inner)
	}
}

func TestVariables(t *testing.T) {
	spec := mustLoad(t, "full", testSources["full"])
	tests := []struct {
		name, section, mapName string
		offset, size           uint32
		typ                    string // btf type name after typedefs and qualifiers are peeled
	}{
		{"dval", ".data", ".data", 0, 4, "int"},
		{"rval", ".rodata", ".rodata", 0, 4, "int"},
		{"arr", ".data.extra", ".data.extra", 0, 12, ""},
		{"ag1", ".addr_space.1", "arena", 0, 8, "unsigned long long"},
		{"ag2", ".addr_space.1", "arena", 8, 4, "int"},
		{"head", ".bss", ".bss", 0, 8, ""},
		{"counter", ".bss", ".bss", 8, 8, "unsigned long long"},
	}
	if len(spec.Variables) != len(tests) {
		var names []string
		for _, v := range spec.Variables {
			names = append(names, v.Name)
		}
		t.Errorf("variables %v", names)
	}
	for _, tt := range tests {
		v := spec.Variable(tt.name)
		if v == nil {
			t.Errorf("%s: missing", tt.name)
			continue
		}
		if v.Section != tt.section || v.Map == nil || v.Map.Name != tt.mapName || v.Offset != tt.offset || v.Size != tt.size {
			t.Errorf("%s: got %s %v +%d %d, want %+v", tt.name, v.Section, v.Map, v.Offset, v.Size, tt)
		}
		if v.Type == nil {
			t.Errorf("%s: no BTF type", tt.name)
			continue
		}
		n, err := btf.Sizeof(v.Type)
		if err != nil || uint32(n) != v.Size {
			t.Errorf("%s: BTF size %d (%v), symbol size %d", tt.name, n, err, v.Size)
		}
		if got := btf.UnderlyingType(v.Type).TypeName(); tt.typ != "" && got != tt.typ {
			t.Errorf("%s: type %q, want %q", tt.name, got, tt.typ)
		}
	}
	if _, ok := btf.UnderlyingType(spec.Variable("arr").Type).(*btf.Array); !ok {
		t.Errorf("arr: type %v", spec.Variable("arr").Type)
	}
	if _, ok := btf.UnderlyingType(spec.Variable("head").Type).(*btf.Pointer); !ok {
		t.Errorf("head: type %v", spec.Variable("head").Type)
	}
}

func TestRelocations(t *testing.T) {
	spec := mustLoad(t, "full", testSources["full"])
	p := spec.Program("prog1")
	type reloc struct {
		kind   RelocationKind
		target string // map or extern
		offset uint32
	}
	got := map[string]reloc{}
	for i, r := range p.Relocations {
		if i < 0 || i >= len(p.Instructions) {
			t.Fatalf("relocation at %d of %d instructions", i, len(p.Instructions))
		}
		ins := p.Instructions[i]
		target := ""
		if r.Map != nil {
			target = r.Map.Name
		} else if r.Extern != nil {
			target = r.Extern.Name
		}
		got[r.Symbol] = reloc{r.Kind, target, r.Offset}
		switch r.Kind {
		case RelocMap:
			if ins.OpCode != 0x18 || ins.Src != asm.PseudoMapFD {
				t.Errorf("%s: instruction %+v", r.Symbol, ins)
			}
		case RelocMapValue, RelocKconfig:
			if ins.OpCode != 0x18 || ins.Src != asm.PseudoMapValue || uint32(uint64(ins.Constant)>>32) != r.Offset {
				t.Errorf("%s: instruction %+v", r.Symbol, ins)
			}
		case RelocKfunc:
			if ins.OpCode != 0x85 || ins.Src != asm.PseudoKfuncCall {
				t.Errorf("%s: instruction %+v", r.Symbol, ins)
			}
		case RelocKsym:
			if ins.OpCode != 0x18 || ins.Src != 0 {
				t.Errorf("%s: typeless ksym instruction %+v", r.Symbol, ins)
			}
		}
	}
	want := map[string]reloc{
		"arena":                 {RelocMap, "arena", 0},
		"bpf_arena_alloc_pages": {RelocKfunc, "bpf_arena_alloc_pages", 0},
		"ag1":                   {RelocMapValue, "arena", 0},
		"ag2":                   {RelocMapValue, "arena", 8},
		"rval":                  {RelocMapValue, ".rodata", 0},
		"arr":                   {RelocMapValue, ".data.extra", 0},
		"CONFIG_NR_CPUS":        {RelocKconfig, ".kconfig", 8},
		"CONFIG_X":              {RelocKconfig, ".kconfig", 12},
		"LINUX_KERNEL_VERSION":  {RelocKconfig, ".kconfig", 0},
		"head":                  {RelocMapValue, ".bss", 0},
		"counter":               {RelocMapValue, ".bss", 8},
		"dval":                  {RelocMapValue, ".data", 0},
		"bpf_prog_active":       {RelocKsym, "bpf_prog_active", 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("relocations\n got %v\nwant %v", got, want)
	}
	x := spec.Program("xprog")
	var maps []string
	for _, r := range x.Relocations {
		if r.Kind == RelocMap {
			maps = append(maps, r.Map.Name)
		}
	}
	sort.Strings(maps)
	if !slices.Equal(maps, []string{"hmap", "outer"}) {
		t.Errorf("xprog map references %v", maps)
	}
}

// TestStaticData covers references through section symbols, where the
// offset is in the instruction's imm.
func TestStaticData(t *testing.T) {
	spec := mustLoad(t, "static", testSources["static"])
	p := spec.Program("sock")
	if p == nil || p.Type != SocketFilter {
		t.Fatalf("program %+v", p)
	}
	var offsets []string
	for _, r := range p.Relocations {
		if r.Kind != RelocMapValue {
			t.Errorf("relocation %+v", r)
			continue
		}
		offsets = append(offsets, r.Map.Name+"+"+string(rune('0'+r.Offset)))
	}
	sort.Strings(offsets)
	// s1 and s2 in .data at 0 and 4, msg in .rodata at 0.
	if want := []string{".data+0", ".data+4", ".rodata+0"}; !slices.Equal(offsets, want) {
		t.Errorf("references %v, want %v", offsets, want)
	}
	for _, v := range []struct {
		name string
		off  uint32
	}{{"s1", 0}, {"s2", 4}} {
		if got := spec.Variable(v.name); got == nil || got.Offset != v.off || got.Type == nil {
			t.Errorf("variable %s: %+v", v.name, got)
		}
	}
	if got := spec.Map(".rodata"); got == nil || !bytes.HasPrefix(got.Contents, []byte("hello\x00")) {
		t.Errorf(".rodata %+v", got)
	}
}

func TestExterns(t *testing.T) {
	spec := mustLoad(t, "full", testSources["full"])
	tests := []struct {
		name   string
		kind   ExternKind
		weak   bool
		offset uint32
		typ    string
	}{
		// kconfig first, by descending alignment, ascending size, name
		{"LINUX_KERNEL_VERSION", ExternKconfig, false, 0, "u64"},
		{"CONFIG_NR_CPUS", ExternKconfig, false, 8, "int"},
		{"CONFIG_X", ExternKconfig, true, 12, "u8"},
		{"bpf_arena_alloc_pages", ExternKfunc, true, 0, "bpf_arena_alloc_pages"},
		{"bpf_prog_active", ExternKsym, false, 0, ""},
	}
	if len(spec.Externs) != len(tests) {
		t.Fatalf("%d externs, want %d", len(spec.Externs), len(tests))
	}
	for i, tt := range tests {
		e := spec.Externs[i]
		if e.Name != tt.name || e.Kind != tt.kind || e.Weak != tt.weak || e.Offset != tt.offset {
			t.Errorf("extern %d: got %+v, want %+v", i, e, tt)
		}
		if e.Type == nil || e.Type.TypeName() != tt.typ {
			t.Errorf("extern %s: type %v, want %q", e.Name, e.Type, tt.typ)
		}
	}
	if fn, ok := spec.Extern("bpf_arena_alloc_pages").Type.(*btf.Func); !ok || len(fn.Type.(*btf.FuncProto).Params) != 5 {
		t.Errorf("kfunc type %v", spec.Extern("bpf_arena_alloc_pages").Type)
	}
}

// sourceLine returns the 1-based line of the compiled source (header
// included) that contains text.
func sourceLine(t *testing.T, src, text string) uint32 {
	for i, l := range strings.Split(testHeader+src, "\n") {
		if strings.Contains(l, text) {
			return uint32(i + 1)
		}
	}
	t.Fatalf("%q not in source", text)
	return 0
}

func TestLines(t *testing.T) {
	src := testSources["full"]
	spec := mustLoad(t, "full", src)
	p := spec.Program("prog1")
	if len(p.Lines) == 0 {
		t.Fatal("no line info")
	}
	for i, l := range p.Lines {
		if i > 0 && l.Index < p.Lines[i-1].Index {
			t.Fatal("lines are not sorted")
		}
		if filepath.Base(l.File) != "full.bpf.c" {
			t.Errorf("line %d: file %q", i, l.File)
		}
	}
	tests := []struct {
		fn   string // the function whose first instruction is looked up
		text string
	}{
		{"prog1", "bpf_loop(10, cb, 0, 0);"},
		{"cb", "static int cb("},
		{"sub", "__noinline int sub("},
		{"leaf", "__noinline static int leaf("},
	}
	for _, tt := range tests {
		var f *Func
		for i := range p.Funcs {
			if p.Funcs[i].Name == tt.fn {
				f = &p.Funcs[i]
			}
		}
		l := p.LineAt(f.Index)
		if l == nil {
			t.Errorf("%s: no line", tt.fn)
			continue
		}
		if !strings.Contains(l.Source, tt.text) || l.Line != sourceLine(t, src, tt.text) {
			t.Errorf("%s: line %d:%d %q, want line %d with %q", tt.fn, l.Line, l.Column, l.Source, sourceLine(t, src, tt.text), tt.text)
		}
		if l.Slot != f.Slot {
			t.Errorf("%s: line at slot %d, func at %d", tt.fn, l.Slot, f.Slot)
		}
	}
	if p.LineAt(-1) != nil {
		t.Error("LineAt(-1) is not nil")
	}
}

func TestSetVariable(t *testing.T) {
	spec := mustLoad(t, "full", testSources["full"])
	tests := []struct {
		name  string
		value []byte
		err   bool
	}{
		{"dval", []byte{9, 0, 0, 0}, false},
		{"rval", []byte{1, 2, 3, 4}, false},
		{"ag2", []byte{4, 3, 2, 1}, false},
		{"counter", []byte{1, 2, 3, 4, 5, 6, 7, 8}, false},
		{"dval", []byte{1}, true},
		{"nope", []byte{1}, true},
	}
	for _, tt := range tests {
		err := spec.SetVariable(tt.name, tt.value)
		if (err != nil) != tt.err {
			t.Errorf("SetVariable(%s): %v", tt.name, err)
		}
		if err != nil {
			continue
		}
		v := spec.Variable(tt.name)
		if got := v.Map.Contents[v.Offset : v.Offset+v.Size]; !bytes.Equal(got, tt.value) {
			t.Errorf("%s: contents %v", tt.name, got)
		}
	}
}

func TestProgramCopy(t *testing.T) {
	spec := mustLoad(t, "full", testSources["full"])
	p := spec.Program("prog1")
	c := p.Copy()
	c.Instructions[0].Constant = 1234
	delete(c.Relocations, 5)
	c.Funcs[4].ArenaArgs[0] = false
	if p.Instructions[0].Constant == 1234 || len(p.Relocations) == len(c.Relocations) || !p.Funcs[4].ArenaArgs[0] {
		t.Error("Copy shares state with the original")
	}
}

// TestLibbpfRejections checks the objects libbpf refuses to open, for the
// same reasons and with the same errno.
func TestLibbpfRejections(t *testing.T) {
	tests := []struct {
		name, src string
		errno     syscall.Errno
		msg       string
	}{
		{"two-arenas", `
struct { __uint(type, MAP_ARENA); __uint(map_flags, F_MMAPABLE); __uint(max_entries, 1); } a1 SEC(".maps");
struct { __uint(type, MAP_ARENA); __uint(map_flags, F_MMAPABLE); __uint(max_entries, 1); } a2 SEC(".maps");
SEC("syscall") int p(void *ctx) { return (int)(long)&a1 + (int)(long)&a2; }
`, syscall.EINVAL, "only single ARENA map is supported"},
		{"globals-without-arena", `
int __arena x = 1;
SEC("syscall") int p(void *ctx) { return x; }
`, syscall.ENOENT, "ARENA map should be explicitly declared"},
		{"globals-too-big", `
struct { __uint(type, MAP_ARENA); __uint(map_flags, F_MMAPABLE); __uint(max_entries, 1); } arena SEC(".maps");
char __arena big[4097] = {1};
SEC("syscall") int p(void *ctx) { return big[4096]; }
`, syscall.E2BIG, "too small to hold global __arena variables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := compile(t, tt.name, tt.src)
			_, err := Load(path)
			if err == nil {
				t.Fatal("no error")
			}
			var oe *Error
			if !errors.As(err, &oe) || oe.File != path {
				t.Errorf("error %v is not an *Error for %s", err, path)
			}
			if !errors.Is(err, tt.errno) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want %v and %q", err, tt.errno, tt.msg)
			}
		})
	}
	// Exactly full is fine.
	spec := mustLoad(t, "globals-fit", `
struct { __uint(type, MAP_ARENA); __uint(map_flags, F_MMAPABLE); __uint(max_entries, 1); } arena SEC(".maps");
char __arena big[4096] = {1};
SEC("syscall") int p(void *ctx) { return big[4095]; }
`)
	if a := spec.Arena(); len(a.Contents) != 4096 || a.Contents[0] != 1 {
		t.Errorf("arena image %d bytes", len(a.Contents))
	}
}

func TestStaticProgramRejected(t *testing.T) {
	path := compile(t, "static-prog", `SEC("syscall") static int p(void *ctx) { return 0; }`)
	_, err := Load(path)
	var oe *Error
	if !errors.As(err, &oe) || oe.Section != "syscall" || !strings.Contains(err.Error(), "static") {
		t.Errorf("error %v", err)
	}
}

// TestExamples loads every object of the project and checks that the
// linked programs are consistent.
func TestExamples(t *testing.T) {
	objs := projectObjects()
	if len(objs) == 0 {
		t.Skip("no objects under bpf/")
	}
	for _, path := range objs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			spec, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range spec.Programs {
				callTargets(t, p)
				for i := range p.Relocations {
					if i < 0 || i >= len(p.Instructions) {
						t.Errorf("%s: relocation at %d", p.Name, i)
					}
				}
				if len(p.Funcs) == 0 || p.Funcs[0].Name != p.Name || p.Funcs[0].Index != 0 {
					t.Errorf("%s: funcs %+v", p.Name, p.Funcs)
				}
				if spec.BTF != nil && p.Funcs[0].Type == nil {
					t.Errorf("%s: no BTF func", p.Name)
				}
			}
			for _, v := range spec.Variables {
				if v.Map == nil || v.Offset+v.Size > uint32(len(v.Map.Contents)) {
					t.Errorf("variable %s outside its map", v.Name)
				}
			}
		})
	}
}

func TestSpecCopy(t *testing.T) {
	spec := mustLoad(t, "full", testSources["full"])
	c := spec.Copy()
	if err := c.SetVariable("ag2", []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if v := spec.Variable("ag2"); !bytes.Equal(v.Map.Contents[8:12], []byte{0, 0, 0, 0}) {
		t.Error("SetVariable on the copy changed the original")
	}
	if c.Variable("ag2").Map != c.Arena() {
		t.Error("copied variable does not point to the copied arena")
	}
	for _, p := range c.Programs {
		for _, r := range p.Relocations {
			if r.Map != nil && !slices.Contains(c.Maps, r.Map) {
				t.Errorf("%s: relocation against map %s of the original", p.Name, r.Map.Name)
			}
			if r.Extern != nil && !slices.Contains(c.Externs, r.Extern) {
				t.Errorf("%s: relocation against extern %s of the original", p.Name, r.Extern.Name)
			}
		}
	}
}

func TestCORERelocations(t *testing.T) {
	spec := mustLoad(t, "core", `
struct task___local { int pid; int tgid; } __attribute__((preserve_access_index));
__noinline int get(struct task___local *t) { return t->tgid; }
SEC("syscall") int corep(void *ctx) { return get(ctx) + ((struct task___local *)ctx)->pid; }
`)
	p := spec.Program("corep")
	if len(p.CORERelos) != 2 {
		t.Fatalf("%d CO-RE relocations, want 2: %v", len(p.CORERelos), p.CORERelos)
	}
	var get Func
	for _, f := range p.Funcs {
		if f.Name == "get" {
			get = f
		}
	}
	offsets := map[bool]int16{} // in get -> field offset
	for i, r := range p.CORERelos {
		ins := p.Instructions[i]
		if r == nil || ins.OpCode&7 != 1 { // BPF_LDX
			t.Errorf("relocation at %d on %+v: %v", i, ins, r)
		}
		offsets[i >= get.Index] = ins.Offset
	}
	if offsets[true] != 4 || offsets[false] != 0 {
		t.Errorf("field offsets %v: want tgid (4) in get and pid (0) in corep", offsets)
	}
}

func TestWithoutBTF(t *testing.T) {
	path := compileFlags(t, "small", testSources["small"])
	spec, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if spec.BTF != nil || spec.RawBTF != nil {
		t.Error("BTF from an object without .BTF")
	}
	p := spec.Program("tcprog")
	if p == nil || p.Type != SchedCLS || len(p.Funcs) != 1 || p.Funcs[0].Type != nil || !p.Funcs[0].Global || len(p.Lines) != 0 {
		t.Fatalf("program %+v", p)
	}
	v := spec.Variable("value")
	if v == nil || v.Type != nil || v.Map.Name != ".data" || v.Size != 4 {
		t.Errorf("variable %+v", v)
	}
	// BTF-defined maps cannot be read without BTF.
	_, err = Load(compileFlags(t, "maps-nobtf", `
struct { __uint(type, MAP_HASH); __uint(max_entries, 1); __type(key, u32); __type(value, u32); } m SEC(".maps");
SEC("syscall") int p(void *ctx) { return (int)(long)&m; }
`))
	var oe *Error
	if !errors.As(err, &oe) || oe.Section != ".maps" {
		t.Errorf("error %v", err)
	}
}

// TestBadMapDefinitions checks the map definitions libbpf refuses.
func TestBadMapDefinitions(t *testing.T) {
	tests := []struct{ name, def, msg string }{
		{"no-type", `struct { __uint(max_entries, 1); } m SEC(".maps");`, "map type isn't specified"},
		{"unknown", `struct { __uint(type, MAP_HASH); __uint(colour, 3); } m SEC(".maps");`, `unknown attribute "colour"`},
		{"static", `static struct { __uint(type, MAP_HASH); } m SEC(".maps");`, "unsupported map linkage"},
		{"key-size", `struct { __uint(type, MAP_HASH); __uint(key_size, 8); __type(key, u32); } m SEC(".maps");`, "conflicting key size 8 != 4"},
		{"values-not-map-in-map", `struct inner { __uint(type, MAP_ARRAY); };
struct { __uint(type, MAP_HASH); __array(values, struct inner); } m SEC(".maps");`, "should be map-in-map or prog-array"},
		{"pinning", `struct { __uint(type, MAP_HASH); __uint(pinning, 7); } m SEC(".maps");`, "invalid pinning value 7"},
		{"ulong", `struct { __uint(type, MAP_ARENA); int *map_extra; } m SEC(".maps");`, "not a pointer to an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.def + "\nSEC(\"syscall\") int p(void *ctx) { return (int)(long)&m; }\n"
			path := compile(t, "map-"+tt.name, src)
			_, err := Load(path)
			var oe *Error
			if !errors.As(err, &oe) || oe.Section != ".maps" || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want an *Error in .maps saying %q", err, tt.msg)
			}
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		v    interface{ String() string }
		want string
	}{
		{Syscall, "syscall"}, {SchedCLS, "sched_cls"}, {ProgramType(99), "prog_type(99)"},
		{AttachTCXIngress, "tcx_ingress"}, {AttachXDP, "xdp"}, {AttachType(99), "attach_type(99)"},
		{Arena, "arena"}, {Array, "array"}, {MapType(99), "map_type(99)"},
		{ExternKfunc, "kfunc"}, {RelocMapValue, "map_value"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%#v: %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestTypedKsym(t *testing.T) {
	spec := mustLoad(t, "ksym", testSources["ksym"])
	e := spec.Extern("bpf_prog_active")
	if e == nil || e.Kind != ExternKsym || btf.UnderlyingType(e.Type).TypeName() != "int" {
		t.Fatalf("extern %+v", e)
	}
	p := spec.Program("p")
	kinds := map[RelocationKind]int{}
	for i, r := range p.Relocations {
		kinds[r.Kind]++
		if r.Kind == RelocKsym && p.Instructions[i].Src != asm.PseudoBTFID {
			t.Errorf("typed ksym loaded with src %d", p.Instructions[i].Src)
		}
	}
	if kinds[RelocKsym] != 1 || kinds[RelocKfunc] != 1 {
		t.Errorf("relocations %v", kinds)
	}
	// The placeholder variable that stands for kfuncs in .ksyms.
	if !bytes.Contains(spec.RawBTF, []byte("dummy_ksym\x00")) {
		t.Error("RawBTF has no dummy_ksym")
	}
}

// projectObjects lists the project's compiled objects that are meant to
// load (bpf/invalid holds ones that must not).
func projectObjects() []string {
	objs, _ := filepath.Glob("../bpf/*/*.bpf.o")
	return slices.DeleteFunc(objs, func(p string) bool { return filepath.Base(filepath.Dir(p)) == "invalid" })
}

// TestInvalidProjectObjects checks the project's invalid objects: those
// libbpf refuses to open fail here with its errno; the others (refused by
// the kernel later) load.
func TestInvalidProjectObjects(t *testing.T) {
	refused := map[string]syscall.Errno{
		"two_arenas.bpf.o":            syscall.EINVAL,
		"globals_too_big.bpf.o":       syscall.E2BIG,
		"globals_without_arena.bpf.o": syscall.ENOENT,
	}
	objs, _ := filepath.Glob("../bpf/invalid/*.bpf.o")
	if len(objs) == 0 {
		t.Skip("no objects under bpf/invalid")
	}
	for _, path := range objs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, err := Load(path)
			errno, ok := refused[filepath.Base(path)]
			switch {
			case ok && !errors.Is(err, errno):
				t.Errorf("error %v, want %v", err, errno)
			case !ok && err != nil:
				t.Errorf("error %v; the kernel, not the reader, refuses this object", err)
			}
		})
	}
}

// libbpf's mmapable rule: a data section of hidden or static variables
// only is not BPF_F_MMAPABLE; one visible variable makes it so.
func TestDataSectionMmapable(t *testing.T) {
	for _, tc := range []struct {
		file, section string
		want          bool
	}{
		{"../bpf/corpus/hidden_data.bpf.o", ".data.LOCK", false},
		{"../bpf/corpus/hidden_data.bpf.o", ".bss", true},
		{"../bpf/corpus/printk.bpf.o", ".rodata", false},
		{"../bpf/examples/list.bpf.o", ".bss", true},
	} {
		spec, err := Load(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		var m *MapSpec
		for _, ms := range spec.Maps {
			if ms.Section == tc.section {
				m = ms
			}
		}
		if m == nil {
			t.Fatalf("%s: no map for %s", tc.file, tc.section)
		}
		if got := m.Flags&FlagMmapable != 0; got != tc.want {
			t.Errorf("%s %s: mmapable %v, want %v", tc.file, tc.section, got, tc.want)
		}
	}
}
