package object

import (
	"debug/elf"
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// kconfigLayout is the place of a __kconfig extern in the .kconfig map.
type kconfigLayout struct {
	size, align uint32
}

// loadExterns collects the undefined symbols. Each needs a BTF VAR or FUNC
// with extern linkage in the .ksyms or .kconfig DATASEC, which says what
// it is; the .kconfig ones are then laid out in the .kconfig map the way
// libbpf does it (by descending alignment, then ascending size, then name)
// so that offsets agree with what libbpf-built tooling expects.
func (l *loader) loadExterns() error {
	l.externs = make(map[string]*ExternSpec)
	layout := make(map[*ExternSpec]kconfigLayout)
	for i := 1; i < len(l.syms); i++ {
		sym := &l.syms[i]
		bind := elf.ST_BIND(sym.Info)
		if sym.Section != elf.SHN_UNDEF || sym.Name == "" || (bind != elf.STB_GLOBAL && bind != elf.STB_WEAK) {
			continue
		}
		symOff := int64(i * 24)
		if l.raw == nil {
			return l.errorf(".symtab", symOff, "extern %q cannot be resolved without BTF", sym.Name)
		}
		if _, dup := l.externs[sym.Name]; dup {
			return l.errorf(".symtab", symOff, "extern %q is declared twice", sym.Name)
		}
		id, secName := l.findExternBTF(sym.Name)
		if id == 0 {
			return l.errorf(".symtab", symOff, "failed to find BTF for extern %q", sym.Name)
		}
		if secName == "" {
			return l.errorf(".symtab", symOff, "failed to find the BTF DATASEC of extern %q", sym.Name)
		}
		t, err := l.typeByID(id)
		if err != nil {
			return l.errorf(secBTF, -1, "extern %q: %w", sym.Name, err)
		}
		e := &ExternSpec{Name: sym.Name, Weak: bind == elf.STB_WEAK}
		switch secName {
		case secKconfig:
			v, ok := t.(*btf.Var)
			if !ok {
				return l.errorf(".symtab", symOff, "extern function %q is unsupported under %s section", sym.Name, secKconfig)
			}
			size, err := btf.Sizeof(v.Type)
			if err == nil && size <= 0 {
				err = fmt.Errorf("size %d", size)
			}
			if err != nil {
				return l.errorf(secBTF, -1, "failed to resolve size of extern (kcfg) %q: %w", sym.Name, err)
			}
			align, err := alignOf(v.Type, 0)
			if err != nil {
				return l.errorf(secBTF, -1, "extern (kcfg) %q: %w", sym.Name, err)
			}
			e.Kind, e.Type = ExternKconfig, v.Type
			layout[e] = kconfigLayout{uint32(size), align}
		case secKsyms:
			switch v := t.(type) {
			case *btf.Func:
				e.Kind, e.Type = ExternKfunc, v
			case *btf.Var:
				e.Kind, e.Type = ExternKsym, v.Type
			}
		default:
			return l.errorf(".symtab", symOff, "extern %q is in section %q, which is neither %s nor %s", sym.Name, secName, secKsyms, secKconfig)
		}
		l.externs[e.Name] = e
		l.spec.Externs = append(l.spec.Externs, e)
	}
	ext := l.spec.Externs
	sort.SliceStable(ext, func(i, j int) bool {
		a, b := ext[i], ext[j]
		if ak, bk := a.Kind == ExternKconfig, b.Kind == ExternKconfig; ak != bk {
			return ak
		}
		if a.Kind == ExternKconfig {
			la, lb := layout[a], layout[b]
			if la.align != lb.align {
				return la.align > lb.align
			}
			if la.size != lb.size {
				return la.size < lb.size
			}
		}
		return a.Name < b.Name
	})
	var off uint32
	for _, e := range ext {
		if e.Kind != ExternKconfig {
			continue
		}
		lay := layout[e]
		off = (off + lay.align - 1) / lay.align * lay.align
		e.Offset = off
		off += lay.size
	}
	if off > 0 {
		l.kconfig = &MapSpec{
			Name:       secKconfig,
			Type:       Array,
			KeySize:    4,
			ValueSize:  off,
			MaxEntries: 1,
			Flags:      FlagMmapable | FlagRdonlyProg,
			Section:    secKconfig,
			Contents:   make([]byte, off),
			ReadOnly:   true,
		}
		l.addMap(l.kconfig)
	}
	return nil
}

// findExternBTF returns the id of the extern VAR or FUNC called name and
// the name of the DATASEC listing it.
func (l *loader) findExternBTF(name string) (uint32, string) {
	var id uint32
	for i, t := range l.raw.byID {
		if t.name == name && (t.kind == kindVar || t.kind == kindFunc) && l.raw.linkage(uint32(i)) == linkageExtern {
			id = uint32(i)
			break
		}
	}
	if id == 0 {
		return 0, ""
	}
	for secName, ds := range l.datasecs {
		for _, vs := range l.raw.secinfos(ds) {
			if vs.Type == id {
				return id, secName
			}
		}
	}
	return id, ""
}

// alignOf is the alignment of a .kconfig extern's type.
func alignOf(t btf.Type, depth int) (uint32, error) {
	if depth > 32 {
		return 0, fmt.Errorf("type nests too deeply")
	}
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		return max(t.Size, 1), nil
	case *btf.Enum:
		return max(t.Size, 1), nil
	case *btf.Pointer:
		return 8, nil
	case *btf.Array:
		return alignOf(t.Type, depth+1)
	case *btf.Struct:
		return membersAlign(t.Members, depth+1)
	case *btf.Union:
		return membersAlign(t.Members, depth+1)
	}
	return 0, fmt.Errorf("cannot align a %T", t)
}

// patchBTF makes RawBTF acceptable to the kernel while keeping every type
// id: DATASECs get the sizes of their sections and their variables the
// offsets of their symbols; .kconfig gets the extern layout; .ksyms
// variables and kfuncs become 4-byte placeholders (the kernel resolves
// them through other means and refuses extern linkage); extern linkage
// becomes global everywhere.
func (l *loader) patchBTF() error {
	if l.raw == nil {
		return nil
	}
	r := l.raw
	names := make([]string, 0, len(l.datasecs))
	for name := range l.datasecs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		id := l.datasecs[name]
		vs := r.secinfos(id)
		switch name {
		case secKconfig:
			for i := range vs {
				e := l.externs[r.byID[vs[i].Type].name]
				if e == nil || e.Kind != ExternKconfig {
					continue
				}
				vs[i].Offset = e.Offset
			}
			var size uint32
			if l.kconfig != nil {
				size = l.kconfig.ValueSize
			}
			r.setSecinfos(id, vs, size)
		case secKsyms:
			intID := r.intID()
			var dummy uint32
			for i := range vs {
				if !r.valid(vs[i].Type) {
					return l.errorf(secBTF, -1, "DATASEC %s: member %d is not a type", name, vs[i].Type)
				}
				t := r.byID[vs[i].Type]
				switch t.kind {
				case kindFunc:
					if dummy == 0 {
						dummy = r.addType("dummy_ksym", kindVar, 0, intID, linkageGlobal)
					}
					if proto := r.funcProto(vs[i].Type); proto != 0 {
						r.fillParamNames(proto, r.u32(r.byID[dummy].off))
					}
					vs[i].Type = dummy
				case kindVar:
					r.put32(t.off+8, intID)
				}
				vs[i].Offset, vs[i].Size = uint32(4*i), 4
			}
			r.setSecinfos(id, vs, uint32(4*len(vs)))
		default:
			// Sections the loader otherwise ignores (a variable
			// placed in a custom section) still need a valid DATASEC.
			idx, ok := l.headers[name]
			if !ok {
				return l.errorf(secBTF, -1, "DATASEC %s has no ELF section", name)
			}
			h := l.f.Sections[idx]
			if r.u32(r.byID[id].off+8) != 0 {
				// A DATASEC with its size set was laid out by a
				// linker (bpftool gen object), offsets included; like
				// libbpf, keep it. Finding offsets by name would give
				// every static of a repeated name (the ____fmt of each
				// bpf_printk) the first one's offset.
				for i := range vs {
					if !r.valid(vs[i].Type) {
						return l.errorf(secBTF, -1, "DATASEC %s: member %d is not a type", name, vs[i].Type)
					}
				}
				r.setSecinfos(id, vs, uint32(h.Size))
				continue
			}
			for i := range vs {
				if !r.valid(vs[i].Type) {
					return l.errorf(secBTF, -1, "DATASEC %s: member %d is not a type", name, vs[i].Type)
				}
				vname := r.byID[vs[i].Type].name
				sym := l.findSymbol(idx, vname)
				if sym == nil {
					return l.errorf(secBTF, -1, "DATASEC %s: failed to find symbol for variable %q", name, vname)
				}
				vs[i].Offset = uint32(sym.Value)
			}
			r.setSecinfos(id, vs, uint32(h.Size))
		}
	}
	for id := range r.byID {
		if id > 0 && r.linkage(uint32(id)) == linkageExtern && (r.byID[id].kind == kindVar || r.byID[id].kind == kindFunc) {
			r.setLinkage(uint32(id), linkageGlobal)
		}
	}
	l.spec.RawBTF = r.encode()
	return nil
}

// loadVariables lists the named data symbols of the global data and arena
// sections.
func (l *loader) loadVariables() error {
	types := make(map[[2]string]btf.Type)
	for name, id := range l.datasecs {
		if name == secKsyms || name == secKconfig || name == secMaps {
			continue
		}
		for _, vs := range l.raw.secinfos(id) {
			t, err := l.typeByID(vs.Type)
			if err != nil {
				return l.errorf(secBTF, -1, "DATASEC %s: %w", name, err)
			}
			if v, ok := t.(*btf.Var); ok {
				types[[2]string{name, v.Name}] = v.Type
			}
		}
	}
	for i := 1; i < len(l.syms); i++ {
		sym := &l.syms[i]
		s := l.symbolSection(sym)
		if s == nil || (s.kind != secData && s.kind != secArenaData) || sym.Name == "" || strings.HasPrefix(sym.Name, ".L") {
			continue
		}
		if typ := elf.ST_TYPE(sym.Info); typ != elf.STT_OBJECT && typ != elf.STT_NOTYPE {
			continue
		}
		if sym.Value+sym.Size > s.hdr.Size {
			return l.errorf(".symtab", int64(i*24), "variable %q [%#x, +%d) is outside section %s", sym.Name, sym.Value, sym.Size, s.name)
		}
		l.spec.Variables = append(l.spec.Variables, &VariableSpec{
			Name:    sym.Name,
			Section: s.name,
			Map:     s.m,
			Offset:  uint32(sym.Value),
			Size:    uint32(sym.Size),
			Type:    types[[2]string{s.name, sym.Name}],
		})
	}
	vars := l.spec.Variables
	sort.SliceStable(vars, func(i, j int) bool {
		if vars[i].Section != vars[j].Section {
			return l.byName[vars[i].Section].idx < l.byName[vars[j].Section].idx
		}
		return vars[i].Offset < vars[j].Offset
	})
	return nil
}

func membersAlign(ms []btf.Member, depth int) (uint32, error) {
	var a uint32 = 1
	for _, m := range ms {
		ma, err := alignOf(m.Type, depth)
		if err != nil {
			return 0, err
		}
		a = max(a, ma)
	}
	return a, nil
}
