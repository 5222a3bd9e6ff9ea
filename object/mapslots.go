package object

import (
	"debug/elf"
	"encoding/binary"
	"sort"
	"syscall"

	"github.com/cilium/ebpf/btf"
)

// mapDef is where a BTF-defined map's definition lies in .maps.
type mapDef struct {
	start, end uint64 // the definition's bytes
	values     int64  // offset of the values member, -1 if none
}

// mapDefOf finds a definition's bytes: size is the variable's size in the
// DATASEC, which unlike the struct's counts the values initialiser.
func mapDefOf(sym *elf.Symbol, def *btf.Struct, size uint32) mapDef {
	d := mapDef{start: sym.Value, end: sym.Value + uint64(max(size, def.Size)), values: -1}
	for _, m := range def.Members {
		if m.Name == "values" {
			d.values = int64(m.Offset.Bytes())
		}
	}
	return d
}

// loadMapSlots reads the relocations of .maps: each is a pointer in a
// map's values array to a program (program arrays) or to a map
// (map-in-map), the static initial entry at that index, as libbpf reads
// them.
func (l *loader) loadMapSlots() error {
	h := l.mapRels
	if h == nil {
		return nil
	}
	data, err := l.sectionData(h)
	if err != nil {
		return err
	}
	const entSize = 16
	if len(data)%entSize != 0 {
		return l.errorf(h.Name, int64(len(data)), "size %d is not a multiple of %d", len(data), entSize)
	}
	type at struct {
		m   *MapSpec
		key uint32
	}
	seen := map[at]bool{}
	for off := 0; off < len(data); off += entSize {
		roff := binary.LittleEndian.Uint64(data[off:])
		info := binary.LittleEndian.Uint64(data[off+8:])
		sym, err := l.symbol(h.Name, int64(off), int(info>>32))
		if err != nil {
			return err
		}
		var m *MapSpec
		var d mapDef
		for mm, dd := range l.mapDefs {
			if roff >= dd.start && roff < dd.end {
				m, d = mm, dd
				break
			}
		}
		if m == nil {
			return l.errorf(h.Name, int64(off), "relocation at %#x of .maps is in no map definition", roff)
		}
		if d.values < 0 || roff < d.start+uint64(d.values) {
			return l.errorf(h.Name, int64(off), "map %q: relocation at %#x is not in its values: %w", m.Name, roff, syscall.EINVAL)
		}
		rel := roff - d.start - uint64(d.values)
		if rel%8 != 0 {
			return l.errorf(h.Name, int64(off), "map %q: relocation at %#x is not on a pointer of values", m.Name, roff)
		}
		key := uint32(rel / 8)
		if key >= m.MaxEntries && m.Type != HashOfMaps {
			return l.errorf(h.Name, int64(off), "map %q: values[%d] is past max_entries %d: %w", m.Name, key, m.MaxEntries, syscall.EINVAL)
		}
		if m.Type == HashOfMaps && m.KeySize != 4 {
			return l.errorf(h.Name, int64(off), "map %q: static values need a 4-byte key, not %d: %w", m.Name, m.KeySize, syscall.EINVAL)
		}
		var name string
		switch m.Type {
		case ProgArray:
			s := l.symbolSection(sym)
			if s == nil || s.kind != secProgram || elf.ST_TYPE(sym.Info) != elf.STT_FUNC {
				return l.errorf(h.Name, int64(off), "map %q: values[%d] is %q, not a program", m.Name, key, sym.Name)
			}
			name = sym.Name
		case ArrayOfMaps, HashOfMaps:
			s := l.symbolSection(sym)
			if s == nil || s.kind != secMapsDef {
				return l.errorf(h.Name, int64(off), "map %q: values[%d] is %q, not a map", m.Name, key, sym.Name)
			}
			inner, ok := l.mapsAt[sym.Value]
			if !ok || inner.Name != sym.Name {
				return l.errorf(h.Name, int64(off), "map %q: values[%d] is %q, not a map", m.Name, key, sym.Name)
			}
			name = inner.Name
		default:
			return l.errorf(h.Name, int64(off), "map %q: static values in a %v map: %w", m.Name, m.Type, syscall.EINVAL)
		}
		if seen[at{m, key}] {
			return l.errorf(h.Name, int64(off), "map %q: values[%d] set twice", m.Name, key)
		}
		seen[at{m, key}] = true
		m.Slots = append(m.Slots, MapSlot{Key: key, Name: name})
	}
	for m := range l.mapDefs {
		sort.Slice(m.Slots, func(i, j int) bool { return m.Slots[i].Key < m.Slots[j].Key })
	}
	return nil
}
