// Package layout writes the memory layout of BTF types as short,
// deterministic strings. A generated skeleton records the layouts it was
// generated from, and its loader compares them with the layouts of the
// object it embeds: any difference means the Go types no longer match.
package layout

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// maxDepth bounds the nesting of anonymous types written inline.
const maxDepth = 32

// Decl is the layout of a named type's definition: size, every member's
// name, bit offset, bitfield width and type reference; for enums their
// size, signedness and values.
func Decl(t btf.Type) string {
	var b strings.Builder
	decl(&b, skipQualifiers(t), 0)
	return b.String()
}

// Ref is how a type is referred to from another: named structs, unions
// and enums by kind and name (their definitions are checked on their own),
// anything anonymous inline, typedefs by what they stand for.
func Ref(t btf.Type) string {
	var b strings.Builder
	ref(&b, t, 0)
	return b.String()
}

// Key is the name a named type is looked up by: "struct node",
// "union value", "enum color", "typedef pair_t".
func Key(t btf.Type) string {
	switch t := t.(type) {
	case *btf.Struct:
		return "struct " + t.Name
	case *btf.Union:
		return "union " + t.Name
	case *btf.Enum:
		return "enum " + t.Name
	case *btf.Typedef:
		return "typedef " + t.Name
	}
	return ""
}

func skipQualifiers(t btf.Type) btf.Type {
	for i := 0; i < maxDepth; i++ {
		switch q := t.(type) {
		case *btf.Const:
			t = q.Type
		case *btf.Volatile:
			t = q.Type
		case *btf.Restrict:
			t = q.Type
		case *btf.TypeTag:
			t = q.Type
		default:
			return t
		}
	}
	return t
}

func ref(b *strings.Builder, t btf.Type, depth int) {
	if depth > maxDepth {
		b.WriteString("...")
		return
	}
	t = skipQualifiers(t)
	switch t := t.(type) {
	case *btf.Struct, *btf.Union, *btf.Enum:
		if t.TypeName() != "" {
			b.WriteString(Key(t))
			return
		}
		decl(b, t, depth+1)
	case *btf.Typedef:
		// A typedef of an anonymous type names it.
		switch u := skipQualifiers(t.Type).(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			if u.TypeName() == "" {
				b.WriteString(Key(t))
				return
			}
		}
		ref(b, t.Type, depth+1)
	default:
		decl(b, t, depth+1)
	}
}

func decl(b *strings.Builder, t btf.Type, depth int) {
	if depth > maxDepth {
		b.WriteString("...")
		return
	}
	switch t := t.(type) {
	case nil, *btf.Void:
		b.WriteString("void")
	case *btf.Int:
		switch {
		case t.Encoding&btf.Bool != 0:
			b.WriteString("bool")
		case t.Encoding&btf.Char != 0:
			b.WriteString("char")
		case t.Encoding&btf.Signed != 0:
			b.WriteString("s" + strconv.Itoa(int(t.Size)*8))
		default:
			b.WriteString("u" + strconv.Itoa(int(t.Size)*8))
		}
	case *btf.Float:
		b.WriteString("f" + strconv.Itoa(int(t.Size)*8))
	case *btf.Pointer:
		b.WriteString("*")
		ref(b, t.Target, depth+1)
	case *btf.Array:
		fmt.Fprintf(b, "[%d]", t.Nelems)
		ref(b, t.Type, depth+1)
	case *btf.Struct:
		members(b, "struct", t.Size, t.Members, depth)
	case *btf.Union:
		members(b, "union", t.Size, t.Members, depth)
	case *btf.Enum:
		sign := "u"
		if t.Signed {
			sign = "s"
		}
		fmt.Fprintf(b, "enum%s%d{", sign, t.Size*8)
		for i, v := range t.Values {
			if i > 0 {
				b.WriteByte(' ')
			}
			if t.Signed {
				fmt.Fprintf(b, "%s=%d", v.Name, int64(v.Value))
			} else {
				fmt.Fprintf(b, "%s=%d", v.Name, v.Value)
			}
		}
		b.WriteByte('}')
	case *btf.Typedef:
		ref(b, t.Type, depth+1)
	case *btf.FuncProto:
		b.WriteString("func")
	case *btf.Fwd:
		b.WriteString("fwd " + t.Name)
	default:
		fmt.Fprintf(b, "%T", t)
	}
}

func members(b *strings.Builder, kind string, size uint32, ms []btf.Member, depth int) {
	fmt.Fprintf(b, "%s%d{", kind, size)
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(b, "%s@%d", m.Name, uint32(m.Offset))
		if m.BitfieldSize > 0 {
			fmt.Fprintf(b, ":%d", uint32(m.BitfieldSize))
		}
		b.WriteByte(' ')
		ref(b, m.Type, depth+1)
	}
	b.WriteByte('}')
}

// Lookup finds the named type key (as Key writes it) in spec.
func Lookup(spec *btf.Spec, key string) ([]btf.Type, error) {
	kind, name, ok := strings.Cut(key, " ")
	if !ok {
		return nil, fmt.Errorf("bad type key %q", key)
	}
	all, err := spec.AnyTypesByName(name)
	if err != nil {
		return nil, err
	}
	var out []btf.Type
	for _, t := range all {
		if Key(t) == kind+" "+name {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s in the object's BTF", key)
	}
	return out, nil
}
