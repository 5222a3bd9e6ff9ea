//go:build linux

package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// BTF kinds and linkages the sanitizer looks at (the UAPI numbers).
const (
	kindInt      = 1
	kindFunc     = 12
	kindFuncProt = 13
	kindVar      = 14
	kindDatasec  = 15

	linkageGlobal    = 1 // BTF_FUNC_GLOBAL and BTF_VAR_GLOBAL_ALLOCATED
	linkageExtern    = 2
	btfHeaderLen     = 24
	btfMagic         = 0xeb9f
	btfTypeHeaderLen = 12
)

// rawBTF is an object's .BTF section opened for the few edits the kernel
// needs. It keeps every type at its id, so the ids the object reader hands
// out (spec.BTF.TypeID) stay valid for func info and CO-RE.
type rawBTF struct {
	types   []byte
	strs    []byte
	strOffs map[string]uint32 // string -> offset, built on first use
	offs    []int             // offs[id] is the type's offset in types; offs[0] unused
}

// parseRawBTF splits raw into its type and string sections.
func parseRawBTF(raw []byte) (*rawBTF, error) {
	le := binary.LittleEndian
	if len(raw) < btfHeaderLen || le.Uint16(raw) != btfMagic {
		return nil, errors.New("BTF: not little-endian BTF")
	}
	hdrLen := le.Uint32(raw[4:])
	typeOff, typeLen := le.Uint32(raw[8:]), le.Uint32(raw[12:])
	strOff, strLen := le.Uint32(raw[16:]), le.Uint32(raw[20:])
	end := func(off, n uint32) uint64 { return uint64(hdrLen) + uint64(off) + uint64(n) }
	if hdrLen < btfHeaderLen || end(typeOff, typeLen) > uint64(len(raw)) || end(strOff, strLen) > uint64(len(raw)) {
		return nil, errors.New("BTF: sections outside the data")
	}
	b := &rawBTF{
		types: bytes.Clone(raw[hdrLen+typeOff : hdrLen+typeOff+typeLen]),
		strs:  bytes.Clone(raw[hdrLen+strOff : hdrLen+strOff+strLen]),
		offs:  []int{0},
	}
	for off := 0; off < len(b.types); {
		if off+btfTypeHeaderLen > len(b.types) {
			return nil, fmt.Errorf("BTF: truncated type %d", len(b.offs))
		}
		b.offs = append(b.offs, off)
		n, err := typeRecordLen(b.types[off:])
		if err != nil {
			return nil, fmt.Errorf("BTF: type %d: %w", len(b.offs)-1, err)
		}
		off += n
	}
	return b, nil
}

// typeRecordLen is the size of the type record at the start of t.
func typeRecordLen(t []byte) (int, error) {
	info := binary.LittleEndian.Uint32(t[4:])
	kind, vlen := (info>>24)&0x1f, int(info&0xffff)
	n := btfTypeHeaderLen
	switch kind {
	case 1, 14, 17: // INT, VAR, DECL_TAG: one u32
		n += 4
	case 3: // ARRAY
		n += 12
	case 4, 5, 15, 19: // STRUCT, UNION, DATASEC, ENUM64
		n += 12 * vlen
	case 6, 13: // ENUM, FUNC_PROTO
		n += 8 * vlen
	case 2, 7, 8, 9, 10, 11, 12, 16, 18: // no trailing data
	default:
		return 0, fmt.Errorf("unknown kind %d", kind)
	}
	if n > len(t) {
		return 0, errors.New("truncated")
	}
	return n, nil
}

func (b *rawBTF) u32(off int) uint32       { return binary.LittleEndian.Uint32(b.types[off:]) }
func (b *rawBTF) put(off int, v uint32)    { binary.LittleEndian.PutUint32(b.types[off:], v) }
func (b *rawBTF) kind(id uint32) uint32    { return (b.u32(b.offs[id]+4) >> 24) & 0x1f }
func (b *rawBTF) vlen(id uint32) int       { return int(b.u32(b.offs[id]+4) & 0xffff) }
func (b *rawBTF) nameOff(id uint32) uint32 { return b.u32(b.offs[id]) }

// str is the string at off in the string section.
func (b *rawBTF) str(off uint32) string {
	if int(off) >= len(b.strs) {
		return ""
	}
	s := b.strs[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

// stringOffset returns the offset of s, appending it when it is missing.
// Line info names source files and lines by such offsets.
func (b *rawBTF) stringOffset(s string) uint32 {
	if b.strOffs == nil {
		b.strOffs = make(map[string]uint32)
		for off := 0; off < len(b.strs); {
			i := bytes.IndexByte(b.strs[off:], 0)
			if i < 0 {
				break
			}
			if _, ok := b.strOffs[string(b.strs[off:off+i])]; !ok {
				b.strOffs[string(b.strs[off:off+i])] = uint32(off)
			}
			off += i + 1
		}
	}
	if off, ok := b.strOffs[s]; ok {
		return off
	}
	off := uint32(len(b.strs))
	b.strs = append(append(b.strs, s...), 0)
	b.strOffs[s] = off
	return off
}

// appendType adds a type record and returns its id.
func (b *rawBTF) appendType(rec []byte) uint32 {
	b.offs = append(b.offs, len(b.types))
	b.types = append(b.types, rec...)
	return uint32(len(b.offs) - 1)
}

// intType returns the id of a 4-byte integer, adding "int" if there is none.
func (b *rawBTF) intType() uint32 {
	for id := uint32(1); id < uint32(len(b.offs)); id++ {
		if b.kind(id) == kindInt && b.u32(b.offs[id]+8) == 4 {
			return id
		}
	}
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[0:], b.stringOffset("int"))
	binary.LittleEndian.PutUint32(rec[4:], kindInt<<24)
	binary.LittleEndian.PutUint32(rec[8:], 4)
	binary.LittleEndian.PutUint32(rec[12:], 1<<24|32) // signed, 32 bits
	return b.appendType(rec)
}

// sanitize makes the object's BTF acceptable to the kernel, with the same
// edits libbpf makes: the kernel knows no extern linkage, and a DATASEC may
// only hold VARs.
//   - extern FUNCs (kfunc declarations) become global, and unnamed
//     parameters of their prototypes get a name, which the kernel demands
//     of global functions;
//   - extern VARs (__ksym and __kconfig variables) become global allocated;
//   - in .ksyms every entry becomes a 4-byte int-typed VAR slot (functions
//     are replaced by one shared dummy VAR) and the section is sized to fit.
func (b *rawBTF) sanitize() {
	n := uint32(len(b.offs))
	var argName uint32
	for id := uint32(1); id < n; id++ {
		off := b.offs[id]
		switch b.kind(id) {
		case kindFunc:
			if b.vlen(id) != linkageExtern {
				continue
			}
			info := b.u32(off + 4)
			b.put(off+4, info&^0xffff|linkageGlobal)
			proto := b.u32(off + 8)
			if proto == 0 || proto >= n || b.kind(proto) != kindFuncProt {
				continue
			}
			poff := b.offs[proto] + btfTypeHeaderLen
			for i := 0; i < b.vlen(proto); i++ {
				p := poff + 8*i
				if b.u32(p) == 0 && b.u32(p+4) != 0 {
					if argName == 0 {
						argName = b.stringOffset("__extern_arg")
					}
					b.put(p, argName)
				}
			}
		case kindVar:
			if b.u32(off+btfTypeHeaderLen) == linkageExtern {
				b.put(off+btfTypeHeaderLen, linkageGlobal)
			}
		}
	}
	for id := uint32(1); id < n; id++ {
		if b.kind(id) != kindDatasec || b.str(b.nameOff(id)) != ".ksyms" {
			continue
		}
		intID := b.intType()
		var dummy uint32
		vlen := b.vlen(id)
		for i := 0; i < vlen; i++ {
			e := b.offs[id] + btfTypeHeaderLen + 12*i
			t := b.u32(e)
			switch {
			case t < uint32(len(b.offs)) && b.kind(t) == kindFunc:
				if dummy == 0 {
					rec := make([]byte, 16)
					binary.LittleEndian.PutUint32(rec[0:], b.stringOffset("__ksym_func"))
					binary.LittleEndian.PutUint32(rec[4:], kindVar<<24)
					binary.LittleEndian.PutUint32(rec[8:], intID)
					binary.LittleEndian.PutUint32(rec[12:], linkageGlobal)
					dummy = b.appendType(rec)
				}
				b.put(e, dummy)
			case t < uint32(len(b.offs)) && b.kind(t) == kindVar:
				b.put(b.offs[t]+8, intID)
			}
			b.put(e+4, uint32(4*i))
			b.put(e+8, 4)
		}
		b.put(b.offs[id]+8, uint32(4*vlen))
	}
}

// bytes encodes the BTF again.
func (b *rawBTF) bytes() []byte {
	out := make([]byte, btfHeaderLen, btfHeaderLen+len(b.types)+len(b.strs))
	le := binary.LittleEndian
	le.PutUint16(out[0:], btfMagic)
	out[2] = 1 // version
	le.PutUint32(out[4:], btfHeaderLen)
	le.PutUint32(out[8:], 0)
	le.PutUint32(out[12:], uint32(len(b.types)))
	le.PutUint32(out[16:], uint32(len(b.types)))
	le.PutUint32(out[20:], uint32(len(b.strs)))
	out = append(out, b.types...)
	return append(out, b.strs...)
}

// datasecID is the id of the DATASEC named name, or 0.
func (b *rawBTF) datasecID(name string) uint32 {
	for id := uint32(1); id < uint32(len(b.offs)); id++ {
		if b.kind(id) == kindDatasec && b.str(b.nameOff(id)) == name {
			return id
		}
	}
	return 0
}
