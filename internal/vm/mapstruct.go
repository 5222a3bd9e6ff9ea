package vm

import (
	"encoding/binary"

	"github.com/bpfarena/bpfarena/internal/vm/verifier"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

// The kernel lets a program read the struct behind a map pointer, typed by
// BTF (check_ptr_to_map_access): arena_base() of the selftests' headers
// reads ((struct bpf_arena *)map)->user_vm_start, others read
// map->max_entries. The vm gives each map a read-only image of that struct
// at the map's handle, laid out as the BTF that CO-RE resolves against says,
// with the fields the vm knows filled in.

// mapStructs finds the map structs of target once per collection.
type mapStructs struct {
	target *btf.Spec
	byName map[string]*btf.Struct
}

func (s *mapStructs) lookup(ms *object.MapSpec) *btf.Struct {
	if s == nil || s.target == nil {
		return nil
	}
	if st := s.byStructName(verifier.MapStructName(ms.Type)); st != nil {
		return st
	}
	return s.byStructName("bpf_map")
}

func (s *mapStructs) byStructName(name string) *btf.Struct {
	if st, ok := s.byName[name]; ok {
		return st
	}
	var st *btf.Struct
	if err := s.target.TypeByName(name, &st); err != nil {
		st = nil
	}
	if s.byName == nil {
		s.byName = map[string]*btf.Struct{}
	}
	s.byName[name] = st
	return st
}

// mapStructImage is the image of struct st for the map ms (id is the map's
// id; start and end the arena's user range, for an arena).
func mapStructImage(st *btf.Struct, ms *object.MapSpec, id uint32, start, end uint64) []byte {
	if st.Size == 0 || st.Size > handleStride {
		return nil
	}
	b := make([]byte, st.Size)
	var put func(t *btf.Struct, base uint32)
	put = func(t *btf.Struct, base uint32) {
		for _, m := range t.Members {
			off := base + uint32(m.Offset/8)
			if m.BitfieldSize != 0 || m.Offset%8 != 0 {
				continue
			}
			if inner, ok := btf.UnderlyingType(m.Type).(*btf.Struct); ok && m.Name == "map" {
				put(inner, off)
				continue
			}
			n, err := btf.Sizeof(m.Type)
			if err != nil || off+uint32(n) > uint32(len(b)) {
				continue
			}
			field := b[off : off+uint32(n)]
			switch m.Name {
			case "map_type":
				putUint(field, uint64(ms.Type))
			case "key_size":
				putUint(field, uint64(ms.KeySize))
			case "value_size":
				putUint(field, uint64(ms.ValueSize))
			case "max_entries":
				putUint(field, uint64(ms.MaxEntries))
			case "map_flags":
				putUint(field, uint64(ms.Flags))
			case "map_extra":
				putUint(field, ms.MapExtra)
			case "id":
				putUint(field, uint64(id))
			case "numa_node":
				putUint(field, ^uint64(0)) // NUMA_NO_NODE
			case "name":
				copy(field[:len(field)-1], ms.Name)
			case "user_vm_start":
				putUint(field, start)
			case "user_vm_end":
				putUint(field, end)
			}
		}
	}
	put(st, 0)
	return b
}

func putUint(b []byte, v uint64) {
	switch len(b) {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	case 8:
		binary.LittleEndian.PutUint64(b, v)
	}
}
