package object

import (
	"debug/elf"
	"sort"
	"strings"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/cilium/ebpf/btf"
)

// Opcodes the linker looks at.
const (
	opCall     = asm.OpCode(0x85) // BPF_JMP | BPF_CALL | BPF_K
	opLdImm64  = asm.OpCode(0x18) // BPF_LD | BPF_IMM | BPF_DW
	textPrefix = secText
)

// loadPrograms makes one ProgramSpec per function symbol of every code
// section but .text, in section order and then in address order.
func (l *loader) loadPrograms() error {
	for _, s := range l.sections {
		if s == nil || s.kind != secProgram || s.name == textPrefix {
			continue
		}
		for _, fn := range s.funcs {
			if !fn.global {
				return l.errorf(s.name, int64(fn.start*asm.InstructionSize), "program %q is static and not supported", fn.name)
			}
			p, err := l.link(fn)
			if err != nil {
				return err
			}
			l.spec.Programs = append(l.spec.Programs, p)
		}
	}
	return nil
}

// placed is a function copied into a linked program.
type placed struct {
	fn    *function
	index int // first instruction in the linked program
	slot  int // first slot in the linked program
}

// linker builds one linked program.
type linker struct {
	l      *loader
	p      *ProgramSpec
	origin []origin // per linked instruction
	slots  []int    // per linked instruction: its slot
	nslots int
	placed map[*function]*placed
	order  []*placed
}

// origin is where a linked instruction comes from.
type origin struct {
	sec  *section
	slot int
}

// link copies entry, then every function it reaches through calls and
// function pointers (each once, in the order first reached), and resolves
// the relocations of all of them, like libbpf does for each program.
func (l *loader) link(entry *function) (*ProgramSpec, error) {
	p := &ProgramSpec{
		Name:        entry.name,
		Section:     entry.sec.name,
		License:     l.spec.License,
		Relocations: make(map[int]Relocation),
	}
	sectionProgramInfo(p)
	k := &linker{l: l, p: p, placed: make(map[*function]*placed)}
	k.place(entry)
	for i := 0; i < len(p.Instructions); i++ {
		if err := k.relocate(i); err != nil {
			return nil, err
		}
	}
	k.extInfo()
	return p, nil
}

// place appends fn to the program.
func (k *linker) place(fn *function) *placed {
	pl := &placed{fn: fn, index: len(k.p.Instructions), slot: k.nslots}
	k.placed[fn] = pl
	k.order = append(k.order, pl)
	s := fn.sec
	first, last := s.index[fn.start], len(s.insns)
	if i, ok := s.index[fn.end]; ok {
		last = i
	}
	for i := first; i < last; i++ {
		k.p.Instructions = append(k.p.Instructions, s.insns[i])
		k.origin = append(k.origin, origin{s, s.slots[i]})
		k.slots = append(k.slots, k.nslots)
		k.nslots += s.insns[i].Size() / asm.InstructionSize
	}
	return pl
}

// funcAt returns the function of s that holds slot.
func funcAt(s *section, slot int) *function {
	i := sort.Search(len(s.funcs), func(i int) bool { return s.funcs[i].end > slot })
	if i < len(s.funcs) && s.funcs[i].start <= slot {
		return s.funcs[i]
	}
	return nil
}

// target resolves a call or function pointer at linked instruction i to
// slot (a slot of section s) and sets its immediate to the distance in the
// linked program.
func (k *linker) target(i int, s *section, slot int, relOff int64) error {
	o := k.origin[i]
	if _, ok := s.index[slot]; !ok {
		return k.l.errorf(o.sec.name, relOff, "call or function pointer to slot %d of %s, which is not an instruction", slot, s.name)
	}
	fn := funcAt(s, slot)
	if fn == nil {
		return k.l.errorf(o.sec.name, relOff, "call or function pointer to slot %d of %s, which is in no function", slot, s.name)
	}
	pl := k.placed[fn]
	if pl == nil {
		pl = k.place(fn)
	}
	rel := int64(pl.slot+slot-fn.start) - int64(k.slots[i]+1)
	ins := &k.p.Instructions[i]
	if ins.OpCode == opLdImm64 {
		// Only the first half's imm holds the offset; the second
		// must be zero.
		ins.Src = asm.PseudoFunc
		ins.Constant = int64(uint32(int32(rel)))
	} else {
		ins.Src = asm.PseudoCall
		ins.Constant = rel
	}
	return nil
}

// relocate applies the ELF relocation of linked instruction i, if any, and
// links local calls.
func (k *linker) relocate(i int) error {
	l := k.l
	o := k.origin[i]
	ins := &k.p.Instructions[i]
	off := int64(o.slot * asm.InstructionSize)
	r, ok := o.sec.rels[o.slot]
	if !ok {
		// Calls and function pointers inside one section may come
		// without a relocation; their imm is already pc-relative.
		switch {
		case ins.OpCode == opCall && ins.Src == asm.PseudoCall,
			ins.OpCode == opLdImm64 && ins.Src == asm.PseudoFunc:
			return k.target(i, o.sec, o.slot+int(int32(ins.Constant))+1, off)
		}
		return nil
	}
	isCall, isLd := ins.OpCode == opCall, ins.OpCode == opLdImm64
	switch {
	case isCall && r.typ == rBPF64_32, isLd && r.typ == rBPF64_64:
	case r.typ != rBPF64_32 && r.typ != rBPF64_64:
		return l.errorf(o.sec.name, off, "unsupported relocation type %d", r.typ)
	default:
		return l.errorf(o.sec.name, off, "relocation type %d on instruction with opcode %#02x", r.typ, uint8(ins.OpCode))
	}
	sym, err := l.symbol(o.sec.name, off, r.sym)
	if err != nil {
		return err
	}
	imm := int64(int32(ins.Constant)) // the first slot's imm
	if sym.Section == elf.SHN_UNDEF {
		return k.external(i, sym, off)
	}
	s := l.symbolSection(sym)
	if s == nil {
		return l.errorf(o.sec.name, off, "relocation against symbol %q in section index %d, which is not supported", sym.Name, sym.Section)
	}
	name := sym.Name
	if name == "" {
		// Static data and functions are referenced through the
		// section's own symbol, which has no name of its own.
		name = s.name
	}
	if sym.Value%asm.InstructionSize != 0 && s.kind == secProgram {
		return l.errorf(o.sec.name, off, "relocation against misaligned function symbol %q", sym.Name)
	}
	switch {
	case s.kind == secProgram && isCall:
		return k.target(i, s, int(sym.Value/asm.InstructionSize)+int(imm)+1, off)
	case s.kind == secProgram && isLd:
		if imm%asm.InstructionSize != 0 {
			return l.errorf(o.sec.name, off, "function pointer to %q with misaligned addend %d", sym.Name, imm)
		}
		return k.target(i, s, int(sym.Value/asm.InstructionSize)+int(imm/asm.InstructionSize), off)
	case isCall:
		return l.errorf(o.sec.name, off, "call to %q in non-code section %s", sym.Name, s.name)
	case s.kind == secMapsDef:
		m := l.mapsAt[sym.Value]
		if m == nil || elf.ST_TYPE(sym.Info) == elf.STT_SECTION {
			return l.errorf(o.sec.name, off, "relocation against %q at %#x of %s, which is no map", sym.Name, sym.Value, s.name)
		}
		ins.Src, ins.Constant = asm.PseudoMapFD, 0
		k.p.Relocations[i] = Relocation{Kind: RelocMap, Map: m, Symbol: name}
	case s.kind == secData || s.kind == secArenaData:
		if s.m == nil {
			return l.errorf(o.sec.name, off, "relocation against %q in empty section %s", sym.Name, s.name)
		}
		// Static data is referenced through the section symbol with
		// the offset in imm; globals through their own symbol.
		at := int64(sym.Value) + imm
		if at < 0 || at > int64(len(s.m.Contents)) {
			return l.errorf(o.sec.name, off, "reference to %q+%d is outside section %s", sym.Name, imm, s.name)
		}
		ins.Src, ins.Constant = asm.PseudoMapValue, at<<32
		k.p.Relocations[i] = Relocation{Kind: RelocMapValue, Map: s.m, Offset: uint32(at), Symbol: name}
	default:
		return l.errorf(o.sec.name, off, "relocation against %q in section %s is not supported", sym.Name, s.name)
	}
	return nil
}

// external resolves a relocation against an undefined symbol: a kfunc
// call, a __ksym variable or a __kconfig value.
func (k *linker) external(i int, sym *elf.Symbol, off int64) error {
	l := k.l
	o := k.origin[i]
	ins := &k.p.Instructions[i]
	e := l.externs[sym.Name]
	if e == nil {
		return l.errorf(o.sec.name, off, "relocation against undefined symbol %q, which is no known extern", sym.Name)
	}
	rel := Relocation{Extern: e, Symbol: sym.Name}
	switch {
	case ins.OpCode == opCall && e.Kind == ExternKfunc:
		rel.Kind = RelocKfunc
		ins.Src, ins.Constant, ins.Offset = asm.PseudoKfuncCall, 0, 0
	case ins.OpCode == opCall:
		return l.errorf(o.sec.name, off, "call to %q, which is not a kernel function", sym.Name)
	case e.Kind == ExternKfunc:
		// The address of a kfunc (bpf_ksym_exists): resolved like a
		// kernel symbol.
		rel.Kind = RelocKfunc
		ins.Constant = 0
	case e.Kind == ExternKsym:
		rel.Kind = RelocKsym
		ins.Constant = 0
		// Typed ksyms load as BTF ids; typeless ones (declared
		// void) as plain addresses from kallsyms.
		if _, void := btf.UnderlyingType(e.Type).(*btf.Void); !void && e.Type != nil {
			ins.Src = asm.PseudoBTFID
		}
	case e.Kind == ExternKconfig:
		rel.Kind, rel.Map, rel.Offset = RelocKconfig, l.kconfig, e.Offset
		ins.Src, ins.Constant = asm.PseudoMapValue, int64(e.Offset)<<32
	}
	k.p.Relocations[i] = rel
	return nil
}

// extInfo attaches func info, line info and CO-RE relocations from
// .BTF.ext to the linked program, translating section slots into linked
// instruction indexes.
func (k *linker) extInfo() {
	l := k.l
	p := k.p
	index := make(map[int]int, len(k.slots))
	for i, s := range k.slots {
		index[s] = i
	}
	for _, pl := range k.order {
		fn := pl.fn
		f := Func{Name: fn.name, Index: pl.index, Slot: pl.slot, Global: fn.global}
		funcs, lines, relos := l.ext.Section(fn.sec.name)
		for _, fo := range funcs {
			if int(fo.Offset) == fn.start && fo.Func != nil {
				f.Type = fo.Func
				f.Global = fo.Func.Linkage == btf.GlobalFunc
				if id, err := l.spec.BTF.TypeID(fo.Func); err == nil {
					f.TypeID = id
				}
				f.ArenaArgs = arenaArgs(fo.Func)
			}
		}
		if pl == k.order[0] && f.Type != nil {
			p.Tags = append(p.Tags, f.Type.Tags...)
		}
		p.Funcs = append(p.Funcs, f)
		for _, lo := range lines {
			s := int(lo.Offset)
			if s < fn.start || s >= fn.end || lo.Line == nil {
				continue
			}
			i, ok := index[pl.slot+s-fn.start]
			if !ok {
				continue
			}
			p.Lines = append(p.Lines, Line{
				Index:  i,
				Slot:   pl.slot + s - fn.start,
				File:   lo.Line.FileName(),
				Line:   lo.Line.LineNumber(),
				Column: lo.Line.LineColumn(),
				Source: strings.TrimRight(lo.Line.Line(), "\n"),
			})
		}
		for _, ro := range relos {
			s := int(ro.Offset)
			if s < fn.start || s >= fn.end {
				continue
			}
			if i, ok := index[pl.slot+s-fn.start]; ok {
				if p.CORERelos == nil {
					p.CORERelos = make(map[int]*btf.CORERelocation)
				}
				p.CORERelos[i] = ro.Relo
			}
		}
	}
	sort.SliceStable(p.Lines, func(a, b int) bool { return p.Lines[a].Index < p.Lines[b].Index })
}

// arenaArgs reports which parameters of fn carry the decl tag "arg:arena".
func arenaArgs(fn *btf.Func) []bool {
	proto, ok := fn.Type.(*btf.FuncProto)
	if !ok {
		return nil
	}
	args := make([]bool, len(proto.Params))
	for i, tags := range fn.ParamTags {
		if i >= len(args) {
			break
		}
		for _, t := range tags {
			if t == "arg:arena" {
				args[i] = true
			}
		}
	}
	return args
}

// IsArenaPointer reports whether t is a pointer whose target carries the
// BTF type tag "arena" (__arena in the kernel selftests' headers since
// Linux 7.3): kernels that read the tag treat such a global function
// argument as __arg_arena and let a subprogram return such a pointer.
func IsArenaPointer(t btf.Type) bool {
	for depth := 0; t != nil && depth < 32; depth++ {
		switch u := t.(type) {
		case *btf.Typedef:
			t = u.Type
		case *btf.Const:
			t = u.Type
		case *btf.Volatile:
			t = u.Type
		case *btf.Restrict:
			t = u.Type
		case *btf.TypeTag:
			t = u.Type
		case *btf.Pointer:
			for tt, d := u.Target, 0; tt != nil && d < 32; d++ {
				switch q := tt.(type) {
				case *btf.TypeTag:
					if q.Value == "arena" {
						return true
					}
					tt = q.Type
				case *btf.Const:
					tt = q.Type
				case *btf.Volatile:
					tt = q.Type
				case *btf.Restrict:
					tt = q.Type
				default:
					return false
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
