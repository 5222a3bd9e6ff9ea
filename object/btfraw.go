package object

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
)

// This file reads and patches the .BTF section in its wire format. The
// kernel needs the raw bytes (type ids in func and line info refer to
// them), but clang leaves DATASEC sizes and variable offsets at zero and
// describes externs in ways the kernel refuses, so the bytes are fixed up
// here in place, keeping every existing type id and string offset.

const (
	btfMagic      = 0xeb9f
	btfHeaderSize = 24

	kindInt       = 1
	kindPtr       = 2
	kindArray     = 3
	kindStruct    = 4
	kindUnion     = 5
	kindEnum      = 6
	kindFwd       = 7
	kindTypedef   = 8
	kindVolatile  = 9
	kindConst     = 10
	kindRestrict  = 11
	kindFunc      = 12
	kindFuncProto = 13
	kindVar       = 14
	kindDatasec   = 15
	kindFloat     = 16
	kindDeclTag   = 17
	kindTypeTag   = 18
	kindEnum64    = 19

	linkageStatic = 0
	linkageGlobal = 1
	linkageExtern = 2
)

// rawType locates one type record in the type section.
type rawType struct {
	off  int // offset of the record in rawBTF.types
	kind int
	vlen int
	name string
}

// rawSecinfo is one btf_var_secinfo of a DATASEC.
type rawSecinfo struct {
	Type   uint32
	Offset uint32
	Size   uint32
}

// rawBTF is a parsed view of a .BTF section.
type rawBTF struct {
	types   []byte    // the type section (copied, patched in place)
	strings []byte    // the string section (copied, may grow)
	byID    []rawType // index 0 is void
}

// parseRawBTF checks the header and walks the type section once so that
// every type can be found by id.
func parseRawBTF(b []byte) (*rawBTF, error) {
	if len(b) < btfHeaderSize {
		return nil, fmt.Errorf("BTF: %d bytes is too short for a header", len(b))
	}
	le := binary.LittleEndian
	if le.Uint16(b[0:]) != btfMagic {
		return nil, fmt.Errorf("BTF: bad magic %#04x (want %#04x little-endian)", le.Uint16(b[0:]), btfMagic)
	}
	if b[2] != 1 {
		return nil, fmt.Errorf("BTF: unsupported version %d", b[2])
	}
	hdrLen := uint64(le.Uint32(b[4:]))
	typeOff, typeLen := uint64(le.Uint32(b[8:])), uint64(le.Uint32(b[12:]))
	strOff, strLen := uint64(le.Uint32(b[16:])), uint64(le.Uint32(b[20:]))
	if hdrLen < btfHeaderSize || hdrLen > uint64(len(b)) {
		return nil, fmt.Errorf("BTF: bad header length %d", hdrLen)
	}
	body := uint64(len(b)) - hdrLen
	if typeOff+typeLen > body || strOff+strLen > body {
		return nil, fmt.Errorf("BTF: type or string section out of bounds")
	}
	if typeOff%4 != 0 {
		return nil, fmt.Errorf("BTF: misaligned type section")
	}
	r := &rawBTF{
		types:   bytes.Clone(b[hdrLen+typeOff : hdrLen+typeOff+typeLen]),
		strings: bytes.Clone(b[hdrLen+strOff : hdrLen+strOff+strLen]),
		byID:    []rawType{{off: -1}},
	}
	if len(r.strings) == 0 || r.strings[0] != 0 || r.strings[len(r.strings)-1] != 0 {
		return nil, fmt.Errorf("BTF: string section must start and end with a NUL")
	}
	for off := 0; off < len(r.types); {
		if len(r.types)-off < 12 {
			return nil, fmt.Errorf("BTF: type %d truncated", len(r.byID))
		}
		info := le.Uint32(r.types[off+4:])
		kind, vlen := int(info>>24&0x1f), int(info&0xffff)
		n, err := extraSize(kind, vlen)
		if err != nil {
			return nil, fmt.Errorf("BTF: type %d: %w", len(r.byID), err)
		}
		if 12+n > len(r.types)-off {
			return nil, fmt.Errorf("BTF: type %d truncated", len(r.byID))
		}
		name, err := r.str(le.Uint32(r.types[off:]))
		if err != nil {
			return nil, fmt.Errorf("BTF: type %d: %w", len(r.byID), err)
		}
		r.byID = append(r.byID, rawType{off: off, kind: kind, vlen: vlen, name: name})
		off += 12 + n
	}
	return r, nil
}

// extraSize is the size of the data that follows the common 12-byte record
// of a type of the given kind.
func extraSize(kind, vlen int) (int, error) {
	switch kind {
	case kindInt, kindVar, kindDeclTag:
		return 4, nil
	case kindPtr, kindFwd, kindTypedef, kindVolatile, kindConst, kindRestrict, kindFunc, kindFloat, kindTypeTag:
		return 0, nil
	case kindArray:
		return 12, nil
	case kindStruct, kindUnion, kindDatasec, kindEnum64:
		return 12 * vlen, nil
	case kindEnum, kindFuncProto:
		return 8 * vlen, nil
	}
	return 0, fmt.Errorf("unknown kind %d", kind)
}

func (r *rawBTF) str(off uint32) (string, error) {
	if int64(off) >= int64(len(r.strings)) {
		return "", fmt.Errorf("string offset %d out of bounds", off)
	}
	end := bytes.IndexByte(r.strings[off:], 0)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at %d", off)
	}
	return string(r.strings[off : int(off)+end]), nil
}

func (r *rawBTF) u32(off int) uint32 { return binary.LittleEndian.Uint32(r.types[off:]) }

func (r *rawBTF) put32(off int, v uint32) { binary.LittleEndian.PutUint32(r.types[off:], v) }

// typeRef is the size_or_type field of type id.
func (r *rawBTF) typeRef(id uint32) uint32 { return r.u32(r.byID[id].off + 8) }

// valid reports whether id names a type (void excluded).
func (r *rawBTF) valid(id uint32) bool { return id > 0 && int64(id) < int64(len(r.byID)) }

// datasecs returns the ids of the DATASEC types by name.
func (r *rawBTF) datasecs() map[string]uint32 {
	m := make(map[string]uint32)
	for id, t := range r.byID {
		if t.kind == kindDatasec {
			m[t.name] = uint32(id)
		}
	}
	return m
}

// secinfos returns the variables of DATASEC id, in file order.
func (r *rawBTF) secinfos(id uint32) []rawSecinfo {
	t := r.byID[id]
	vs := make([]rawSecinfo, t.vlen)
	for i := range vs {
		o := t.off + 12 + 12*i
		vs[i] = rawSecinfo{r.u32(o), r.u32(o + 4), r.u32(o + 8)}
	}
	return vs
}

// setSecinfos rewrites DATASEC id with vs sorted by offset (the kernel
// wants them ascending) and the given size.
func (r *rawBTF) setSecinfos(id uint32, vs []rawSecinfo, size uint32) {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Offset < vs[j].Offset })
	t := r.byID[id]
	r.put32(t.off+8, size)
	for i, v := range vs {
		o := t.off + 12 + 12*i
		r.put32(o, v.Type)
		r.put32(o+4, v.Offset)
		r.put32(o+8, v.Size)
	}
}

// setLinkage changes the linkage of a VAR or FUNC.
func (r *rawBTF) setLinkage(id uint32, linkage uint32) {
	t := r.byID[id]
	switch t.kind {
	case kindVar:
		r.put32(t.off+12, linkage)
	case kindFunc:
		info := r.u32(t.off + 4)
		r.put32(t.off+4, info&^0xffff|linkage)
	}
}

// linkage returns the linkage of a VAR or FUNC.
func (r *rawBTF) linkage(id uint32) uint32 {
	t := r.byID[id]
	switch t.kind {
	case kindVar:
		return r.u32(t.off + 12)
	case kindFunc:
		return uint32(t.vlen)
	}
	return 0
}

// addString appends s to the string section and returns its offset.
func (r *rawBTF) addString(s string) uint32 {
	off := uint32(len(r.strings))
	r.strings = append(append(r.strings, s...), 0)
	return off
}

// addType appends a type record and returns its id.
func (r *rawBTF) addType(name string, kind int, vlen int, sizeOrType uint32, extra ...uint32) uint32 {
	off := len(r.types)
	nameOff := uint32(0)
	if name != "" {
		nameOff = r.addString(name)
	}
	var rec []byte
	rec = binary.LittleEndian.AppendUint32(rec, nameOff)
	rec = binary.LittleEndian.AppendUint32(rec, uint32(kind)<<24|uint32(vlen))
	rec = binary.LittleEndian.AppendUint32(rec, sizeOrType)
	for _, e := range extra {
		rec = binary.LittleEndian.AppendUint32(rec, e)
	}
	r.types = append(r.types, rec...)
	r.byID = append(r.byID, rawType{off: off, kind: kind, vlen: vlen, name: name})
	return uint32(len(r.byID) - 1)
}

// intID returns the id of a 32-bit integer type, adding one if there is
// none.
func (r *rawBTF) intID() uint32 {
	for id, t := range r.byID {
		if t.kind == kindInt && r.u32(t.off+8) == 4 && r.u32(t.off+12)&0xff == 32 {
			return uint32(id)
		}
	}
	// encoding signed (1<<24), offset 0, 32 bits
	return r.addType("int", kindInt, 0, 4, 1<<24|32)
}

// encode returns the section: header, types, strings.
func (r *rawBTF) encode() []byte {
	le := binary.LittleEndian
	b := make([]byte, btfHeaderSize, btfHeaderSize+len(r.types)+len(r.strings))
	le.PutUint16(b[0:], btfMagic)
	b[2] = 1
	le.PutUint32(b[4:], btfHeaderSize)
	le.PutUint32(b[8:], 0)
	le.PutUint32(b[12:], uint32(len(r.types)))
	le.PutUint32(b[16:], uint32(len(r.types)))
	le.PutUint32(b[20:], uint32(len(r.strings)))
	b = append(b, r.types...)
	return append(b, r.strings...)
}

// funcProto returns the FUNC_PROTO id a FUNC points to, or 0.
func (r *rawBTF) funcProto(fn uint32) uint32 {
	p := r.typeRef(fn)
	if r.valid(p) && r.byID[p].kind == kindFuncProto {
		return p
	}
	return 0
}

// fillParamNames gives every unnamed parameter of proto the name at
// string offset name: the kernel refuses a FUNC whose prototype has
// unnamed parameters, and kfunc declarations may omit them.
func (r *rawBTF) fillParamNames(proto uint32, name uint32) {
	t := r.byID[proto]
	for i := 0; i < t.vlen; i++ {
		o := t.off + 12 + 8*i
		if r.u32(o) == 0 && r.u32(o+4) != 0 {
			r.put32(o, name)
		}
	}
}
