package bpfarena

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/cilium/ebpf/btf"
)

// Field is one member of a decoded struct or union.
type Field struct {
	Name  string
	Value any
}

// Object is a decoded struct: its members in declaration order. It
// marshals to a JSON object that keeps that order.
type Object []Field

// MarshalJSON keeps the members in declaration order.
func (o Object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.Name)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// decodeBTF turns b, a value of type t, into JSON-friendly values.
// Without a type, the bytes are decoded as a little-endian integer when
// they have an integer's size, else returned as a byte array.
func decodeBTF(t btf.Type, b []byte) (any, error) {
	t = btf.UnderlyingType(t)
	switch t := t.(type) {
	case nil:
		return rawValue(b), nil
	case *btf.Int:
		if int(t.Size) > len(b) {
			return nil, fmt.Errorf("int of %d bytes in %d", t.Size, len(b))
		}
		if t.Encoding == btf.Bool {
			return b[0] != 0, nil
		}
		return intValue(b[:t.Size], t.Encoding == btf.Signed), nil
	case *btf.Enum:
		if int(t.Size) > len(b) {
			return nil, fmt.Errorf("enum of %d bytes in %d", t.Size, len(b))
		}
		return intValue(b[:t.Size], t.Signed), nil
	case *btf.Pointer:
		if len(b) < 8 {
			return nil, fmt.Errorf("pointer in %d bytes", len(b))
		}
		return binary.LittleEndian.Uint64(b), nil
	case *btf.Array:
		size, err := btf.Sizeof(t.Type)
		if err != nil {
			return nil, err
		}
		if int(t.Nelems)*size > len(b) {
			return nil, fmt.Errorf("array of %d x %d bytes in %d", t.Nelems, size, len(b))
		}
		out := make([]any, t.Nelems)
		for i := range out {
			if out[i], err = decodeBTF(t.Type, b[i*size:(i+1)*size]); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *btf.Struct:
		return decodeMembers(t.Members, b)
	case *btf.Union:
		return decodeMembers(t.Members, b)
	case *btf.Float:
		return rawValue(b), nil
	default:
		return rawValue(b), nil
	}
}

func decodeMembers(members []btf.Member, b []byte) (Object, error) {
	out := make(Object, 0, len(members))
	for _, m := range members {
		off := int(m.Offset.Bytes())
		if m.BitfieldSize > 0 {
			// Bitfields: extract from the containing 64-bit window.
			var w [8]byte
			copy(w[:], b[int(m.Offset)/8:])
			v := binary.LittleEndian.Uint64(w[:]) >> (uint(m.Offset) % 8)
			v &= (1 << uint(m.BitfieldSize)) - 1
			out = append(out, Field{m.Name, v})
			continue
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			return nil, err
		}
		if off+size > len(b) {
			return nil, fmt.Errorf("member %s [%d, %d) past %d bytes", m.Name, off, off+size, len(b))
		}
		v, err := decodeBTF(m.Type, b[off:off+size])
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", m.Name, err)
		}
		out = append(out, Field{m.Name, v})
	}
	return out, nil
}

func intValue(b []byte, signed bool) any {
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	if !signed {
		return u
	}
	shift := 64 - 8*uint(len(b))
	return int64(u<<shift) >> shift
}

func rawValue(b []byte) any {
	switch len(b) {
	case 1, 2, 4, 8:
		return intValue(b, false)
	}
	out := make([]any, len(b))
	for i, c := range b {
		out[i] = uint64(c)
	}
	return out
}

// encodeBTF parses text as a value of type t (size bytes).
func encodeBTF(t btf.Type, size uint32, text string) ([]byte, error) {
	out := make([]byte, size)
	u := btf.UnderlyingType(t)
	if arr, ok := u.(*btf.Array); ok {
		if el, ok := btf.UnderlyingType(arr.Type).(*btf.Int); ok && el.Size == 1 {
			if len(text) >= 2 && text[0] == '"' {
				s, err := strconv.Unquote(text)
				if err != nil {
					return nil, fmt.Errorf("bad string %s: %w", text, err)
				}
				text = s
			}
			if uint32(len(text)) > size {
				return nil, fmt.Errorf("string of %d bytes does not fit %d", len(text), size)
			}
			copy(out, text)
			return out, nil
		}
	}
	if en, ok := u.(*btf.Enum); ok {
		for _, v := range en.Values {
			if v.Name == text {
				putInt(out, v.Value)
				return out, nil
			}
		}
	}
	if in, ok := u.(*btf.Int); ok && in.Encoding == btf.Bool {
		switch text {
		case "true":
			text = "1"
		case "false":
			text = "0"
		case "0", "1":
		default:
			return nil, fmt.Errorf("%q is not a bool: want true, false, 1 or 0", text)
		}
	}
	switch u.(type) {
	case nil, *btf.Int, *btf.Enum, *btf.Pointer:
	default:
		return nil, fmt.Errorf("cannot set a value of type %s from the command line", u)
	}
	if size > 8 {
		return nil, fmt.Errorf("cannot set a %d-byte value from a number", size)
	}
	var v uint64
	if n, err := strconv.ParseInt(text, 0, 64); err == nil {
		v = uint64(n)
	} else if n, err2 := strconv.ParseUint(text, 0, 64); err2 == nil {
		v = n
	} else {
		return nil, fmt.Errorf("%q is not a number: %w", text, err)
	}
	if size < 8 {
		lim := uint64(1) << (8 * size)
		hi := v >> (8 * size)
		if hi != 0 && hi != (^uint64(0))>>(8*size) {
			return nil, fmt.Errorf("%s does not fit in %d bytes", text, size)
		}
		v &= lim - 1
	}
	putInt(out, v)
	return out, nil
}

func putInt(b []byte, v uint64) {
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
}
