package main

import (
	"fmt"
	"strings"

	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

// attachName is the attach type's name, empty for none.
func attachName(t object.AttachType) string {
	if t == object.AttachNone {
		return ""
	}
	return t.String()
}

func flagNames(f uint32) string {
	var names []string
	for _, fl := range []struct {
		bit  uint32
		name string
	}{
		{object.FlagRdonlyProg, "RDONLY_PROG"}, {object.FlagMmapable, "MMAPABLE"},
		{object.FlagSegvOnFault, "SEGV_ON_FAULT"}, {object.FlagNoUserConv, "NO_USER_CONV"},
	} {
		if f&fl.bit != 0 {
			names = append(names, fl.name)
			f &^= fl.bit
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%#x", f))
	}
	return strings.Join(names, "|")
}

// typeName renders a BTF type the way C declares it.
func typeName(t btf.Type) string {
	if t == nil {
		return "?"
	}
	switch t := t.(type) {
	case *btf.Pointer:
		return typeName(t.Target) + " *"
	case *btf.Array:
		return fmt.Sprintf("%s[%d]", typeName(t.Type), t.Nelems)
	case *btf.Const:
		return "const " + typeName(t.Type)
	case *btf.Volatile:
		return "volatile " + typeName(t.Type)
	case *btf.Restrict:
		return typeName(t.Type)
	case *btf.TypeTag:
		return typeName(t.Type) + " __attribute__((btf_type_tag(\"" + t.Value + "\")))"
	case *btf.Struct:
		if t.Name == "" {
			return "struct {...}"
		}
		return "struct " + t.Name
	case *btf.Union:
		if t.Name == "" {
			return "union {...}"
		}
		return "union " + t.Name
	case *btf.Enum:
		if t.Name == "" {
			return "enum {...}"
		}
		return "enum " + t.Name
	case *btf.Fwd:
		return t.Kind.String() + " " + t.Name
	case *btf.FuncProto:
		return "func"
	}
	if n := t.TypeName(); n != "" {
		return n
	}
	return fmt.Sprint(t)
}
