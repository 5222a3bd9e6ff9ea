package object

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/cilium/ebpf/btf"
)

// Section names with a fixed meaning.
const (
	secText     = ".text"
	secMaps     = ".maps"
	secLicense  = "license"
	secKconfig  = ".kconfig"
	secKsyms    = ".ksyms"
	secArena    = ".addr_space.1"
	secArenaOld = ".arena.1"
	secBTF      = ".BTF"
	// maxObjectLen bounds every section the loader reads or allocates,
	// so that a corrupt size cannot exhaust memory.
	maxObjectLen = 1 << 30
)

// ELF relocation types of the BPF backend that may appear in code.
const (
	rBPF64_64 = 1  // ld_imm64 of a symbol's address
	rBPF64_32 = 10 // call of a function
)

// Load reads the BPF object at path.
func Load(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Offset: -1, Err: err}
	}
	defer f.Close()
	return LoadReader(f, path)
}

// LoadReader reads a BPF object from r; name is used in errors and as
// Spec.Path.
func LoadReader(r io.ReaderAt, name string) (spec *Spec, err error) {
	// The ELF and BTF readers underneath are meant to return errors for
	// any input, but a malformed object must never take the caller down:
	// a panic that escapes them is reported as a read error.
	defer func() {
		if p := recover(); p != nil {
			spec, err = nil, &Error{File: name, Offset: -1, Err: fmt.Errorf("malformed object: %v", p)}
		}
	}()
	l := &loader{name: name, r: r, spec: &Spec{Path: name}}
	if err := l.load(); err != nil {
		return nil, err
	}
	return l.spec, nil
}

// secKind classifies ELF sections.
type secKind int

const (
	secOther   secKind = iota
	secProgram         // executable code (.text included)
	secData            // .bss*, .data*, .rodata*: backed by a global data map
	secArenaData
	secMapsDef
)

// section is an ELF section the loader cares about.
type section struct {
	idx   int
	name  string
	hdr   *elf.Section
	kind  secKind
	data  []byte
	insns asm.Instructions
	slots []int       // slot of instruction i
	index map[int]int // slot -> instruction index
	funcs []*function // functions in the section, by start slot
	rels  map[int]relocation
	m     *MapSpec // the data map of a secData section
}

// relocation is one ELF relocation of a code section.
type relocation struct {
	off uint64 // byte offset in the section
	typ uint32
	sym int // symbol table index
}

// function is a function symbol in a code section.
type function struct {
	sec        *section
	name       string
	start, end int // slots
	global     bool
}

// loader holds the state of one Load.
type loader struct {
	name     string
	r        io.ReaderAt
	f        *elf.File
	spec     *Spec
	sections []*section // by ELF index; nil for ignored ones
	byName   map[string]*section
	headers  map[string]int // every section's index by name, ignored ones included
	syms     []elf.Symbol   // by symbol table index; 0 is the null symbol
	symIndex map[symKey]*elf.Symbol
	raw      *rawBTF
	ext      *btf.ExtInfos
	datasecs map[string]uint32
	mapsAt   map[uint64]*MapSpec // BTF-defined maps by offset in .maps
	mapDefs  map[*MapSpec]mapDef // where each BTF-defined map's values lie
	mapRels  *elf.Section        // relocations of .maps (static slots)
	arenaSec *section
	arena    *MapSpec
	kconfig  *MapSpec
	externs  map[string]*ExternSpec
}

func (l *loader) load() error {
	if err := l.openELF(); err != nil {
		return err
	}
	if err := l.readSections(); err != nil {
		return err
	}
	if err := l.readSymbols(); err != nil {
		return err
	}
	if err := l.readBTF(); err != nil {
		return err
	}
	if err := l.loadMaps(); err != nil {
		return err
	}
	if err := l.loadMapSlots(); err != nil {
		return err
	}
	if err := l.loadExterns(); err != nil {
		return err
	}
	if err := l.patchBTF(); err != nil {
		return err
	}
	if err := l.loadVariables(); err != nil {
		return err
	}
	if err := l.loadPrograms(); err != nil {
		return err
	}
	return nil
}

func (l *loader) openELF() error {
	// Look at the identification bytes first: debug/elf would read a
	// big-endian or 32-bit header with the wrong layout and report
	// something less helpful than what the object is.
	var ident [elf.EI_NIDENT + 4]byte
	if n, _ := l.r.ReadAt(ident[:], 0); n == len(ident) && string(ident[:4]) == elf.ELFMAG {
		if d := elf.Data(ident[elf.EI_DATA]); d != elf.ELFDATA2LSB {
			return &Error{File: l.name, Offset: elf.EI_DATA, Err: fmt.Errorf("%w: %v (only little-endian objects are supported)", ErrNotBPF, d)}
		}
		if c := elf.Class(ident[elf.EI_CLASS]); c != elf.ELFCLASS64 {
			return &Error{File: l.name, Offset: elf.EI_CLASS, Err: fmt.Errorf("%w: class %v", ErrNotBPF, c)}
		}
		if m := elf.Machine(binary.LittleEndian.Uint16(ident[18:])); m != elf.EM_BPF {
			return &Error{File: l.name, Offset: 18, Err: fmt.Errorf("%w: machine %v", ErrNotBPF, m)}
		}
	}
	f, err := elf.NewFile(l.r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &Error{File: l.name, Offset: -1, Err: fmt.Errorf("reading ELF: %w", l.truncated(err))}
		}
		return &Error{File: l.name, Offset: -1, Err: fmt.Errorf("reading ELF: %w", err)}
	}
	l.f = f
	switch {
	case f.Class != elf.ELFCLASS64:
		return &Error{File: l.name, Offset: -1, Err: fmt.Errorf("%w: class %v", ErrNotBPF, f.Class)}
	case f.Data != elf.ELFDATA2LSB:
		return &Error{File: l.name, Offset: -1, Err: fmt.Errorf("%w: %v (only little-endian objects are supported)", ErrNotBPF, f.Data)}
	case f.Machine != elf.EM_BPF:
		return &Error{File: l.name, Offset: -1, Err: fmt.Errorf("%w: machine %v", ErrNotBPF, f.Machine)}
	case f.Type != elf.ET_REL:
		return &Error{File: l.name, Offset: -1, Err: fmt.Errorf("%w: type %v (want a relocatable object)", ErrNotBPF, f.Type)}
	}
	return nil
}

// sectionData reads a section, refusing sizes no BPF object has so that a
// corrupt header cannot make the reader allocate or read without bound.
func (l *loader) sectionData(s *elf.Section) ([]byte, error) {
	// NOBITS sections are checked too: their contents are allocated as
	// zeros later.
	if s.Size > maxObjectLen {
		return nil, l.errorf(s.Name, -1, "size %d is too large", s.Size)
	}
	if s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	if s.Flags&elf.SHF_COMPRESSED != 0 {
		return nil, l.errorf(s.Name, -1, "compressed sections are not supported")
	}
	b, err := s.Data()
	if err != nil {
		return nil, l.errorf(s.Name, -1, "reading section: %w", err)
	}
	return b, nil
}

func isDataSection(name string, typ elf.SectionType) bool {
	has := func(p string) bool { return name == p || strings.HasPrefix(name, p+".") }
	switch {
	case has(".data"), has(".rodata"):
		return typ == elf.SHT_PROGBITS
	case has(".bss"):
		return typ == elf.SHT_NOBITS
	}
	return false
}

func (l *loader) readSections() error {
	l.sections = make([]*section, len(l.f.Sections))
	l.byName = make(map[string]*section)
	var rels []*elf.Section
	l.headers = make(map[string]int)
	for i, h := range l.f.Sections {
		if _, dup := l.headers[h.Name]; !dup {
			l.headers[h.Name] = i
		}
		s := &section{idx: i, name: h.Name, hdr: h}
		switch {
		case h.Type == elf.SHT_PROGBITS && h.Flags&elf.SHF_EXECINSTR != 0:
			s.kind = secProgram
		case h.Name == secArena || h.Name == secArenaOld:
			s.kind = secArenaData
		case h.Name == secMaps:
			s.kind = secMapsDef
		case isDataSection(h.Name, h.Type):
			s.kind = secData
		case h.Type == elf.SHT_REL:
			rels = append(rels, h)
			continue
		case h.Type == elf.SHT_RELA:
			// The BPF backend never emits RELA; a code section with
			// one would be silently mislinked.
			if int(h.Info) < len(l.f.Sections) && l.f.Sections[h.Info].Flags&elf.SHF_EXECINSTR != 0 {
				return l.errorf(h.Name, -1, "RELA relocations are not supported")
			}
			continue
		case h.Name == secLicense, h.Name == secBTF:
		default:
			continue
		}
		data, err := l.sectionData(h)
		if err != nil {
			return err
		}
		s.data = data
		l.sections[i] = s
		if _, dup := l.byName[s.name]; !dup {
			l.byName[s.name] = s
		}
		if s.kind == secArenaData {
			if l.arenaSec != nil {
				return l.errorf(s.name, -1, "second arena data section (first is %s)", l.arenaSec.name)
			}
			l.arenaSec = s
		}
		if s.kind == secProgram {
			if err := l.decode(s); err != nil {
				return err
			}
		}
	}
	if lic := l.byName[secLicense]; lic != nil {
		b := lic.data
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		l.spec.License = string(b)
	}
	for _, h := range rels {
		if int(h.Info) >= len(l.sections) {
			return l.errorf(h.Name, -1, "relocations for section index %d, which does not exist", h.Info)
		}
		target := l.sections[h.Info]
		if target != nil && target.kind == secMapsDef {
			l.mapRels = h
			continue
		}
		if target == nil || target.kind != secProgram {
			// Relocations of debug info and BTF are not needed to
			// load the programs.
			continue
		}
		if err := l.readRelocations(h, target); err != nil {
			return err
		}
	}
	return nil
}

// decode splits a code section into instructions.
func (l *loader) decode(s *section) error {
	if len(s.data)%asm.InstructionSize != 0 {
		return l.errorf(s.name, int64(len(s.data)), "size %d is not a multiple of %d", len(s.data), asm.InstructionSize)
	}
	// Fields are not validated here: an instruction the verifier refuses
	// must reach the verifier (kernel or vm), which says why in its own
	// terms. Only what cannot be an instruction at all is an error.
	insns, err := asm.DecodeUnchecked(s.data)
	if err != nil {
		var off int64 = -1
		if de := (*asm.DecodeError)(nil); errors.As(err, &de) {
			off = int64(de.Offset)
		}
		return l.errorf(s.name, off, "decoding instructions: %w", err)
	}
	s.insns = insns
	s.index = make(map[int]int, len(insns))
	s.slots = make([]int, len(insns))
	slot := 0
	for i, ins := range insns {
		s.index[slot] = i
		s.slots[i] = slot
		slot += ins.Size() / asm.InstructionSize
	}
	return nil
}

func (l *loader) readRelocations(h *elf.Section, target *section) error {
	data, err := l.sectionData(h)
	if err != nil {
		return err
	}
	const entSize = 16
	if len(data)%entSize != 0 {
		return l.errorf(h.Name, int64(len(data)), "size %d is not a multiple of %d", len(data), entSize)
	}
	target.rels = make(map[int]relocation)
	for off := 0; off < len(data); off += entSize {
		r := relocation{
			off: binary.LittleEndian.Uint64(data[off:]),
			typ: uint32(binary.LittleEndian.Uint64(data[off+8:])),
			sym: int(binary.LittleEndian.Uint64(data[off+8:]) >> 32),
		}
		if r.off%asm.InstructionSize != 0 || r.off >= uint64(len(target.data)) {
			return l.errorf(h.Name, int64(off), "relocation offset %#x is outside %s or not on an instruction", r.off, target.name)
		}
		slot := int(r.off / asm.InstructionSize)
		if _, ok := target.index[slot]; !ok {
			return l.errorf(h.Name, int64(off), "relocation offset %#x is inside an instruction of %s", r.off, target.name)
		}
		if _, dup := target.rels[slot]; dup {
			return l.errorf(h.Name, int64(off), "second relocation for offset %#x", r.off)
		}
		target.rels[slot] = r
	}
	return nil
}

func (l *loader) readSymbols() error {
	syms, err := l.f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		l.syms = []elf.Symbol{{}}
		return nil
	}
	if err != nil {
		return l.errorf(".symtab", -1, "reading symbols: %w", err)
	}
	l.syms = append([]elf.Symbol{{}}, syms...)
	for i, sym := range syms {
		if elf.ST_TYPE(sym.Info) != elf.STT_FUNC {
			continue
		}
		idx := int(sym.Section)
		if sym.Section >= elf.SHN_LORESERVE || idx >= len(l.sections) || l.sections[idx] == nil || l.sections[idx].kind != secProgram {
			continue
		}
		s := l.sections[idx]
		if sym.Value%asm.InstructionSize != 0 || sym.Value >= uint64(len(s.data)) {
			return l.errorf(".symtab", int64((i+1)*24), "function %q at %#x is outside %s or misaligned", sym.Name, sym.Value, s.name)
		}
		start := int(sym.Value / asm.InstructionSize)
		if _, ok := s.index[start]; !ok {
			return l.errorf(".symtab", int64((i+1)*24), "function %q starts inside an instruction", sym.Name)
		}
		end := len(s.data) / asm.InstructionSize
		if sym.Size > 0 && sym.Size%asm.InstructionSize == 0 && sym.Value+sym.Size <= uint64(len(s.data)) {
			end = start + int(sym.Size/asm.InstructionSize)
		}
		s.funcs = append(s.funcs, &function{
			sec: s, name: sym.Name, start: start, end: end,
			global: elf.ST_BIND(sym.Info) != elf.STB_LOCAL,
		})
	}
	for _, s := range l.sections {
		if s == nil || s.kind != secProgram {
			continue
		}
		sort.SliceStable(s.funcs, func(i, j int) bool { return s.funcs[i].start < s.funcs[j].start })
		for i, fn := range s.funcs {
			if i > 0 && fn.start == s.funcs[i-1].start {
				return l.errorf(s.name, int64(fn.start*asm.InstructionSize), "functions %q and %q start at the same instruction", s.funcs[i-1].name, fn.name)
			}
			// A function ends where the next begins, whatever its
			// symbol size says, so that every slot has one owner.
			if i+1 < len(s.funcs) && fn.end > s.funcs[i+1].start {
				fn.end = s.funcs[i+1].start
			}
			if fn.end <= fn.start {
				fn.end = fn.start + 1
			}
		}
	}
	return nil
}

// symbol returns symbol table entry i.
func (l *loader) symbol(sec string, off int64, i int) (*elf.Symbol, error) {
	if i <= 0 || i >= len(l.syms) {
		return nil, l.errorf(sec, off, "relocation names symbol %d, which does not exist", i)
	}
	return &l.syms[i], nil
}

// symbolSection returns the section a symbol is defined in, or nil.
func (l *loader) symbolSection(sym *elf.Symbol) *section {
	if sym.Section == elf.SHN_UNDEF || sym.Section >= elf.SHN_LORESERVE || int(sym.Section) >= len(l.sections) {
		return nil
	}
	return l.sections[sym.Section]
}

func (l *loader) readBTF() error {
	s := l.byName[secBTF]
	if s == nil {
		return nil
	}
	raw, err := parseRawBTF(s.data)
	if err != nil {
		return l.errorf(secBTF, -1, "%w", err)
	}
	l.raw = raw
	l.datasecs = raw.datasecs()
	spec, ext, err := btf.LoadSpecAndExtInfosFromReader(l.r)
	if err != nil {
		return l.errorf(secBTF, -1, "%w", err)
	}
	l.spec.BTF = spec
	l.ext = ext
	return nil
}

// typeByID returns a type of the object's BTF.
func (l *loader) typeByID(id uint32) (btf.Type, error) {
	if l.raw != nil && l.raw.valid(id) && l.raw.byID[id].kind == kindDatasec {
		// Datasecs are read raw: cilium/ebpf refuses some that
		// libbpf accepts (typed __ksym variables).
		return nil, fmt.Errorf("type %d is a DATASEC", id)
	}
	t, err := l.spec.BTF.TypeByID(btf.TypeID(id))
	if err != nil {
		return nil, fmt.Errorf("BTF type %d: %w", id, err)
	}
	return t, nil
}

// addMap appends m to the Spec.
func (l *loader) addMap(m *MapSpec) { l.spec.Maps = append(l.spec.Maps, m) }

func (l *loader) loadMaps() error {
	if s := l.byName[secMaps]; s != nil {
		if err := l.loadBTFMaps(s); err != nil {
			return err
		}
	}
	for _, m := range l.spec.Maps {
		if !m.IsArena() {
			continue
		}
		if l.arena != nil {
			return l.errorf(secMaps, -1, "map %q: only single ARENA map is supported (map %q is also ARENA): %w", m.Name, l.arena.Name, syscall.EINVAL)
		}
		l.arena = m
	}
	if s := l.arenaSec; s != nil {
		if l.arena == nil {
			return l.errorf(s.name, -1, "to use global __arena variables the ARENA map should be explicitly declared in SEC(\".maps\"): %w", syscall.ENOENT)
		}
		size := s.hdr.Size
		if limit := uint64(l.arena.MaxEntries) * PageSize; (size+PageSize-1)/PageSize*PageSize > limit {
			return l.errorf(s.name, -1, "declared ARENA map size (%d) is too small to hold global __arena variables of size %d: %w", limit, size, syscall.E2BIG)
		}
		if s.data != nil {
			l.arena.Contents = bytes.Clone(s.data)
		} else {
			l.arena.Contents = make([]byte, size)
		}
		s.m = l.arena
	}
	for _, s := range l.sections {
		if s == nil || s.kind != secData || s.hdr.Size == 0 {
			continue
		}
		ro := strings.HasPrefix(s.name, ".rodata")
		m := &MapSpec{
			Name:       s.name,
			Type:       Array,
			KeySize:    4,
			ValueSize:  uint32(s.hdr.Size),
			MaxEntries: 1,
			Section:    s.name,
			ReadOnly:   ro,
		}
		if l.mmapableData(s) {
			m.Flags |= FlagMmapable
		}
		if ro {
			m.Flags |= FlagRdonlyProg
		}
		if s.data != nil {
			m.Contents = bytes.Clone(s.data)
		} else {
			m.Contents = make([]byte, s.hdr.Size)
		}
		s.m = m
		l.addMap(m)
	}
	return nil
}

// mmapableData is libbpf's rule for a global data section's map: it is
// BPF_F_MMAPABLE when at least one of its variables is visible outside
// the object, and not when all are static or hidden (STV_HIDDEN and
// STV_INTERNAL count as static). A section holding only a hidden spin
// lock must not be mmapable: the kernel refuses to mmap a map with one
// (ENOTSUPP). A section BTF does not describe (.rodata.str1.1) is.
func (l *loader) mmapableData(s *section) bool {
	if l.raw == nil {
		return true
	}
	id, ok := l.datasecs[s.name]
	if !ok {
		return true
	}
	for _, vs := range l.raw.secinfos(id) {
		t, err := l.typeByID(vs.Type)
		if err != nil {
			return true
		}
		v, ok := t.(*btf.Var)
		if !ok || v.Linkage == btf.StaticVar {
			continue
		}
		if sym := l.findSymbol(s.idx, v.Name); sym != nil {
			if vis := elf.ST_VISIBILITY(sym.Other); vis == elf.STV_HIDDEN || vis == elf.STV_INTERNAL {
				continue
			}
		}
		return true
	}
	return false
}

// leanType strips typedefs and qualifiers.
func leanType(t btf.Type) btf.Type { return btf.UnderlyingType(t) }

func (l *loader) loadBTFMaps(s *section) error {
	if l.raw == nil {
		return l.errorf(s.name, -1, "BTF-defined maps need the object's BTF, and it has none")
	}
	id, ok := l.datasecs[secMaps]
	if !ok {
		return l.errorf(s.name, -1, "no BTF DATASEC describes the maps")
	}
	l.mapsAt = make(map[uint64]*MapSpec)
	l.mapDefs = make(map[*MapSpec]mapDef)
	for _, vs := range l.raw.secinfos(id) {
		t, err := l.typeByID(vs.Type)
		if err != nil {
			return l.errorf(s.name, -1, "%w", err)
		}
		v, ok := t.(*btf.Var)
		if !ok {
			return l.errorf(s.name, -1, "DATASEC member %d is a %T, not a variable", vs.Type, t)
		}
		sym := l.findSymbol(s.idx, v.Name)
		if sym == nil {
			return l.errorf(s.name, -1, "map %q has no symbol", v.Name)
		}
		if v.Linkage != btf.GlobalVar {
			return l.errorf(s.name, int64(sym.Value), "map %q: unsupported map linkage %v: %w", v.Name, v.Linkage, syscall.EOPNOTSUPP)
		}
		def, ok := leanType(v.Type).(*btf.Struct)
		if !ok {
			return l.errorf(s.name, int64(sym.Value), "map %q: definition is a %T, not a struct", v.Name, leanType(v.Type))
		}
		m, err := parseMapDef(v.Name, def, false)
		if err != nil {
			return l.errorf(s.name, int64(sym.Value), "map %q: %w", v.Name, err)
		}
		m.Section = secMaps
		if _, dup := l.mapsAt[sym.Value]; dup {
			return l.errorf(s.name, int64(sym.Value), "map %q overlaps another map", v.Name)
		}
		l.mapsAt[sym.Value] = m
		l.mapDefs[m] = mapDefOf(sym, def, vs.Size)
		l.addMap(m)
	}
	return nil
}

// symKey names a symbol defined in a section.
type symKey struct {
	sec  int
	name string
}

// findSymbol returns the named symbol defined in section idx, or nil.
func (l *loader) findSymbol(idx int, name string) *elf.Symbol {
	if l.symIndex == nil {
		l.symIndex = make(map[symKey]*elf.Symbol)
		for i := len(l.syms) - 1; i > 0; i-- {
			sym := &l.syms[i]
			if sym.Section != elf.SHN_UNDEF && sym.Section < elf.SHN_LORESERVE && sym.Name != "" && elf.ST_TYPE(sym.Info) != elf.STT_SECTION {
				// Walking backwards leaves the first of duplicate
				// names in the index.
				l.symIndex[symKey{int(sym.Section), sym.Name}] = sym
			}
		}
	}
	return l.symIndex[symKey{idx, name}]
}

// uintField reads a map attribute written as __uint(name, N): a pointer to
// an array of N elements.
func uintField(m btf.Member) (uint32, error) {
	p, ok := btf.UnderlyingType(m.Type).(*btf.Pointer)
	if !ok {
		return 0, fmt.Errorf("attribute %q: %T is not a pointer to an array", m.Name, m.Type)
	}
	a, ok := p.Target.(*btf.Array)
	if !ok {
		return 0, fmt.Errorf("attribute %q: pointer to %T is not a pointer to an array", m.Name, p.Target)
	}
	return a.Nelems, nil
}

// ulongField reads a 64-bit attribute written as __ulong(name, N): an enum
// whose only value is N (or the __uint form).
func ulongField(m btf.Member) (uint64, error) {
	switch t := m.Type.(type) {
	case *btf.Pointer:
		n, err := uintField(m)
		return uint64(n), err
	case *btf.Enum:
		if len(t.Values) != 1 {
			return 0, fmt.Errorf("attribute %q: invalid __ulong: enum with %d values", m.Name, len(t.Values))
		}
		v := t.Values[0].Value
		if t.Size <= 4 {
			v = uint64(uint32(v))
		}
		return v, nil
	}
	return 0, fmt.Errorf("attribute %q: expected ENUM or ENUM64, got %T", m.Name, m.Type)
}

// typeField reads __type(name, T): a pointer to T.
func typeField(m btf.Member) (btf.Type, uint32, error) {
	p, ok := m.Type.(*btf.Pointer)
	if !ok {
		return nil, 0, fmt.Errorf("attribute %q: %T is not a pointer", m.Name, m.Type)
	}
	n, err := btf.Sizeof(p.Target)
	if err != nil {
		return nil, 0, fmt.Errorf("attribute %q: %w", m.Name, err)
	}
	return p.Target, uint32(n), nil
}

// parseMapDef reads a BTF map definition (a struct of __uint, __ulong,
// __type and __array members).
func parseMapDef(name string, def *btf.Struct, inner bool) (*MapSpec, error) {
	m := &MapSpec{Name: name}
	var keySize, valueSize uint32
	var keySet, valueSet bool
	for i, mem := range def.Members {
		var err error
		switch mem.Name {
		case "type":
			var v uint32
			v, err = uintField(mem)
			m.Type = MapType(v)
		case "max_entries":
			m.MaxEntries, err = uintField(mem)
		case "map_flags":
			m.Flags, err = uintField(mem)
		case "numa_node":
			m.NumaNode, err = uintField(mem)
		case "pinning":
			if inner {
				return nil, fmt.Errorf("inner def can't be pinned")
			}
			m.Pinning, err = uintField(mem)
			if err == nil && m.Pinning > 1 {
				// 0: none, 1: by name (LIBBPF_PIN_BY_NAME)
				err = fmt.Errorf("invalid pinning value %d", m.Pinning)
			}
		case "key_size":
			keySize, err = uintField(mem)
			keySet = true
		case "value_size":
			valueSize, err = uintField(mem)
			valueSet = true
		case "map_extra":
			m.MapExtra, err = ulongField(mem)
		case "key":
			var n uint32
			m.Key, n, err = typeField(mem)
			if err == nil && keySet && keySize != n {
				err = fmt.Errorf("conflicting key size %d != %d", keySize, n)
			}
			keySize, keySet = n, true
		case "value":
			var n uint32
			m.Value, n, err = typeField(mem)
			if err == nil && valueSet && valueSize != n {
				err = fmt.Errorf("conflicting value size %d != %d", valueSize, n)
			}
			valueSize, valueSet = n, true
		case "values":
			if inner {
				return nil, fmt.Errorf("multi-level inner maps not supported: %w", syscall.ENOTSUP)
			}
			if i != len(def.Members)-1 {
				return nil, fmt.Errorf("%q member should be last", mem.Name)
			}
			if m.Type != ArrayOfMaps && m.Type != HashOfMaps && m.Type != ProgArray {
				return nil, fmt.Errorf("should be map-in-map or prog-array: %w", syscall.ENOTSUP)
			}
			if valueSet && valueSize != 4 {
				return nil, fmt.Errorf("conflicting value size %d != 4", valueSize)
			}
			valueSize, valueSet = 4, true
			m.InnerMap, err = parseInnerMap(name, mem, m.Type == ProgArray)
		default:
			return nil, fmt.Errorf("unknown attribute %q", mem.Name)
		}
		if err != nil {
			return nil, err
		}
	}
	if m.Type == 0 {
		return nil, fmt.Errorf("map type isn't specified")
	}
	m.KeySize, m.ValueSize = keySize, valueSize
	return m, nil
}

// parseInnerMap reads __array(values, struct {...}): a zero-length array of
// pointers to the inner map definition. Program arrays point to function
// prototypes instead; they have no inner map.
func parseInnerMap(outer string, mem btf.Member, progArray bool) (*MapSpec, error) {
	a, ok := mem.Type.(*btf.Array)
	if !ok || a.Nelems != 0 {
		return nil, fmt.Errorf("%q spec is not a zero-sized array", mem.Name)
	}
	p, ok := leanType(a.Type).(*btf.Pointer)
	if !ok {
		return nil, fmt.Errorf("attribute %q: array of %T, not of pointers", mem.Name, a.Type)
	}
	t := leanType(p.Target)
	if progArray {
		if _, ok := t.(*btf.FuncProto); !ok {
			return nil, fmt.Errorf("prog-array value def is of unexpected kind %T", t)
		}
		return nil, nil
	}
	def, ok := t.(*btf.Struct)
	if !ok {
		return nil, fmt.Errorf("map-in-map inner def is of unexpected kind %T", t)
	}
	return parseMapDef(outer+".inner", def, true)
}

// truncated explains an ELF header or section table cut off by the end
// of the file, from what the ELF header says should be there.
func (l *loader) truncated(err error) error {
	var h [64]byte
	n, _ := l.r.ReadAt(h[:], 0)
	if n < len(h) {
		return fmt.Errorf("truncated object: %d bytes, shorter than the 64-byte ELF header: %w", n, io.ErrUnexpectedEOF)
	}
	shoff := binary.LittleEndian.Uint64(h[0x28:])
	end := shoff + uint64(binary.LittleEndian.Uint16(h[0x3a:]))*uint64(binary.LittleEndian.Uint16(h[0x3c:]))
	var b [1]byte
	if end > 0 {
		if _, rerr := l.r.ReadAt(b[:], int64(end-1)); rerr != nil {
			return fmt.Errorf("truncated object: the section headers should end at byte %d, past the end of the file (%v): %w",
				end, err, io.ErrUnexpectedEOF)
		}
	}
	return fmt.Errorf("truncated object: a section runs past the end of the file (%v): %w", err, io.ErrUnexpectedEOF)
}
