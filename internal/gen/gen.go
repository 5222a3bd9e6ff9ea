// Package gen writes the Go skeleton of a BPF object: Go types with the
// exact C layout of every type the object's globals, maps and programs
// reach, typed handles for its programs, maps and globals, and a loader
// for the object embedded beside the generated file.
//
// The shape follows bpf2go's so that Go's BPF users know it:
//
//   - C types are named with the ident as prefix (struct node, ident List:
//     ListNode); a typedef names the anonymous type it stands for; other
//     anonymous types are written inline as Go struct literals.
//   - Structs start with structs.HostLayout and carry explicit padding.
//   - A union is its first member followed by padding to the union's size;
//     an anonymous union or struct member is flattened into the struct
//     that holds it, as C lets code name its members directly.
//   - Bitfields become padding (the comment names the bits they hold):
//     Go has no bitfields, and an unlabelled field is better than a
//     guessed one.
//   - Enums become a named integer type with one typed constant per value.
//   - Pointers to data become arena.Ptr[T]: in memory shared with user
//     space, arena pointers are the kind Go can follow. Pointers to void
//     and functions become uint64.
//   - A member at an offset Go's alignment cannot express (packed
//     structs) becomes a byte array of its size.
package gen

import (
	"bytes"
	"fmt"
	"go/format"
	"go/token"
	"strconv"
	"strings"
	"unicode"

	"github.com/bpfarena/bpfarena/internal/layout"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

// Args are the inputs of Generate.
type Args struct {
	// Package is the Go package name of the output.
	Package string
	// Ident prefixes every generated name; an ident starting with a
	// lower-case letter makes the generated API unexported.
	Ident string
	// Object is the file name the generated code embeds, relative to the
	// generated file's directory.
	Object string
	// Types are extra C types to generate ("struct foo", "enum bar",
	// "union baz", "typedef qux_t", or a bare name for any of them).
	Types []string
	// Spec is the parsed object.
	Spec *object.Spec
}

// FileName is the name of the generated file for ident.
func FileName(ident string) string { return strings.ToLower(ident) + "_bpfarena.go" }

// Generate returns the gofmt-formatted Go source of the skeleton.
func Generate(a Args) ([]byte, error) {
	if !token.IsIdentifier(a.Ident) {
		return nil, fmt.Errorf("ident %q is not a Go identifier", a.Ident)
	}
	if !token.IsIdentifier(a.Package) {
		return nil, fmt.Errorf("package %q is not a Go identifier", a.Package)
	}
	if strings.ContainsAny(a.Object, "\n\"`") || a.Object == "" {
		return nil, fmt.Errorf("object file name %q cannot be embedded", a.Object)
	}
	g := &generator{
		btf:   a.Spec.BTF,
		ident: a.Ident,
		names: map[btf.Type]string{},
		byKey: map[string]btf.Type{},
		used:  map[string]bool{},
		align: map[btf.Type]uint32{},
	}
	for _, n := range []string{"Programs", "Maps", "Variables", "Objects"} {
		g.used[a.Ident+n] = true
	}
	spec := a.Spec
	for _, v := range spec.Variables {
		g.collect(v.Type, 0)
	}
	for _, m := range spec.Maps {
		if m.Section == ".maps" {
			g.collect(m.Key, 0)
			g.collect(m.Value, 0)
		}
	}
	for _, p := range spec.Programs {
		if len(p.Funcs) == 0 || p.Funcs[0].Type == nil {
			continue
		}
		if proto, ok := p.Funcs[0].Type.Type.(*btf.FuncProto); ok {
			for _, prm := range proto.Params {
				g.collect(prm.Type, 0)
			}
		}
	}
	for _, name := range a.Types {
		t, err := findType(spec, name)
		if err != nil {
			return nil, err
		}
		g.collect(t, 0)
		if g.names[t] == "" {
			return nil, fmt.Errorf("type %q: only structs, unions, enums and typedefs can be generated", name)
		}
	}
	if g.err != nil {
		return nil, g.err
	}
	src, err := g.file(a)
	if err != nil {
		return nil, err
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("generated code does not parse (%w):\n%s", err, src)
	}
	return out, nil
}

// findType resolves a --type argument.
func findType(spec *object.Spec, name string) (btf.Type, error) {
	if spec.BTF == nil {
		return nil, fmt.Errorf("type %q: %s has no BTF", name, spec.Path)
	}
	if strings.Contains(name, " ") {
		ts, err := layout.Lookup(spec.BTF, name)
		if err != nil {
			return nil, fmt.Errorf("type %q: %w", name, err)
		}
		return ts[0], nil
	}
	ts, err := spec.BTF.AnyTypesByName(name)
	if err != nil {
		return nil, fmt.Errorf("type %q: not in the BTF of %s: %w", name, spec.Path, err)
	}
	for _, t := range ts {
		if layout.Key(t) != "" {
			return t, nil
		}
	}
	return nil, fmt.Errorf("type %q: no struct, union, enum or typedef of that name in %s", name, spec.Path)
}

type generator struct {
	btf   *btf.Spec
	ident string
	// names are the Go names of the named types, by BTF type.
	names map[btf.Type]string
	byKey map[string]btf.Type
	order []btf.Type
	used  map[string]bool
	align map[btf.Type]uint32

	usesArena, usesStructs bool
	err                    error
}

const maxDepth = 32

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

// collect registers the named types t reaches.
func (g *generator) collect(t btf.Type, depth int) {
	if t == nil || depth > maxDepth {
		return
	}
	t = skipQualifiers(t)
	switch t := t.(type) {
	case *btf.Struct, *btf.Union, *btf.Enum:
		if t.TypeName() != "" && !g.register(t, t) {
			return
		}
		var ms []btf.Member
		switch s := t.(type) {
		case *btf.Struct:
			ms = s.Members
		case *btf.Union:
			ms = s.Members
		}
		for _, m := range ms {
			g.collect(m.Type, depth+1)
		}
	case *btf.Typedef:
		u := skipQualifiers(t.Type)
		switch u.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			if u.TypeName() == "" {
				if !g.register(t, u) {
					return
				}
			}
		}
		g.collect(t.Type, depth+1)
	case *btf.Pointer:
		g.collect(g.resolve(t.Target), depth+1)
	case *btf.Array:
		g.collect(t.Type, depth+1)
	}
}

// resolve replaces a forward declaration by the definition the object
// holds, if any: clang declares the target of a pointer member only
// forward when nothing else needs the whole type.
func (g *generator) resolve(t btf.Type) btf.Type {
	fwd, ok := skipQualifiers(t).(*btf.Fwd)
	if !ok || g.btf == nil {
		return t
	}
	kind := "struct "
	if fwd.Kind == btf.FwdUnion {
		kind = "union "
	}
	if ts, err := layout.Lookup(g.btf, kind+fwd.Name); err == nil {
		return ts[0]
	}
	return t
}

// register names the type def under key's name; it reports whether the
// type is new.
func (g *generator) register(key, def btf.Type) bool {
	k := layout.Key(key)
	if prev, ok := g.byKey[k]; ok {
		// Objects may hold several copies of one type; name them alike.
		if _, ok := g.names[def]; !ok {
			g.names[def] = g.names[prev]
		}
		return false
	}
	if _, ok := g.names[def]; ok {
		return false
	}
	name := g.unique(g.ident + camel(key.TypeName()))
	g.byKey[k] = def
	g.names[def] = name
	g.order = append(g.order, key)
	return true
}

func (g *generator) unique(name string) string {
	if !g.used[name] {
		g.used[name] = true
		return name
	}
	for i := 2; ; i++ {
		n := name + strconv.Itoa(i)
		if !g.used[n] {
			g.used[n] = true
			return n
		}
	}
}

// camel turns a C name into a Go identifier the way bpf2go does:
// list_node -> ListNode, __u64 -> U64; an underscore after a capital is
// kept, so enumerators stay readable (MODE_A -> MODE_A).
func camel(c string) string {
	var b strings.Builder
	upNext := true
	var prev rune = -1
	for _, r := range c {
		switch {
		case r == '_' && (prev == -1 || prev == '_' || unicode.IsDigit(prev) || unicode.IsLower(prev)):
			upNext = true
			continue
		case r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r):
			continue
		}
		prev = r
		if upNext && unicode.IsLetter(r) {
			r = unicode.ToUpper(r)
		}
		upNext = false
		b.WriteRune(r)
	}
	s := b.String()
	if s == "" || !unicode.IsLetter([]rune(s)[0]) {
		s = "X" + s
	}
	return s
}

func (g *generator) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// goType is the Go type for t and its alignment in Go.
func (g *generator) goType(t btf.Type, depth int) (string, uint32) {
	return g.goTypeAligned(t, depth, true)
}

// goTypeAligned is goType; without needAlign, named types report no
// alignment, which cuts the recursion through pointers to named types.
func (g *generator) goTypeAligned(t btf.Type, depth int, needAlign bool) (string, uint32) {
	if depth > maxDepth {
		g.fail(fmt.Errorf("type %s nests too deep", t))
		return "byte", 1
	}
	t = skipQualifiers(t)
	if name, ok := g.names[t]; ok {
		if !needAlign {
			return name, 0
		}
		return name, g.alignOf(t, depth)
	}
	switch t := t.(type) {
	case nil, *btf.Void:
		return "struct{}", 1
	case *btf.Int:
		switch {
		case t.Encoding&btf.Bool != 0 && t.Size == 1:
			return "bool", 1
		case t.Size > 8 || t.Size&(t.Size-1) != 0:
			return fmt.Sprintf("[%d]byte", t.Size), 1
		case t.Encoding&btf.Signed != 0 && t.Encoding&btf.Char == 0:
			return "int" + strconv.Itoa(int(t.Size)*8), t.Size
		default:
			return "uint" + strconv.Itoa(int(t.Size)*8), t.Size
		}
	case *btf.Enum:
		return intType(t.Size, t.Signed), t.Size
	case *btf.Float:
		if t.Size == 4 || t.Size == 8 {
			return "float" + strconv.Itoa(int(t.Size)*8), t.Size
		}
		return fmt.Sprintf("[%d]byte", t.Size), 1
	case *btf.Pointer:
		target := g.resolve(t.Target)
		switch target := skipQualifiers(target).(type) {
		case nil, *btf.Void, *btf.FuncProto, *btf.Fwd:
			return "uint64", 8
		case *btf.Typedef:
			if _, ok := btf.UnderlyingType(target).(*btf.Void); ok {
				return "uint64", 8
			}
		}
		g.usesArena = true
		elem, _ := g.goTypeAligned(target, depth+1, false)
		return "arena.Ptr[" + elem + "]", 8
	case *btf.Array:
		elem, al := g.goTypeAligned(t.Type, depth+1, needAlign)
		return fmt.Sprintf("[%d]%s", t.Nelems, elem), al
	case *btf.Typedef:
		return g.goTypeAligned(t.Type, depth+1, needAlign)
	case *btf.Struct:
		var b bytes.Buffer
		al := g.structLit(&b, t.Size, t.Members, false, depth+1)
		return b.String(), al
	case *btf.Union:
		var b bytes.Buffer
		al := g.structLit(&b, t.Size, t.Members, true, depth+1)
		return b.String(), al
	}
	size, err := btf.Sizeof(t)
	if err != nil {
		g.fail(fmt.Errorf("type %s: %w", t, err))
	}
	return fmt.Sprintf("[%d]byte", size), 1
}

func intType(size uint32, signed bool) string {
	s := "uint"
	if signed {
		s = "int"
	}
	return s + strconv.Itoa(int(size)*8)
}

// alignOf is the Go alignment of the named type t.
func (g *generator) alignOf(t btf.Type, depth int) uint32 {
	if al, ok := g.align[t]; ok {
		return al
	}
	var al uint32 = 1
	switch t := t.(type) {
	case *btf.Struct:
		al = g.structLit(&bytes.Buffer{}, t.Size, t.Members, false, depth+1)
	case *btf.Union:
		al = g.structLit(&bytes.Buffer{}, t.Size, t.Members, true, depth+1)
	case *btf.Enum:
		al = t.Size
	}
	g.align[t] = al
	return al
}

// field is one Go field of a struct literal.
type field struct {
	name, typ, comment string
	off, size, align   uint32
}

// bitfield is a C bitfield, which Go cannot name.
type bitfield struct {
	name      string
	bit, bits uint32 // absolute bit offset in the outer struct
}

// fields flattens members at byte offset base into Go fields. Only the
// first member of a union is kept.
func (g *generator) fields(ms []btf.Member, base uint32, union bool, depth int, out *[]field, bfs *[]bitfield) {
	for i, m := range ms {
		if union && i > 0 {
			break
		}
		if m.BitfieldSize > 0 {
			*bfs = append(*bfs, bitfield{m.Name, base*8 + uint32(m.Offset), uint32(m.BitfieldSize)})
			continue
		}
		off := base + m.Offset.Bytes()
		if m.Name == "" {
			switch u := skipQualifiers(m.Type).(type) {
			case *btf.Struct:
				if _, named := g.names[u]; !named {
					g.fields(u.Members, off, false, depth+1, out, bfs)
					continue
				}
			case *btf.Union:
				if _, named := g.names[u]; !named {
					g.fields(u.Members, off, true, depth+1, out, bfs)
					continue
				}
			}
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			g.fail(fmt.Errorf("member %s: %w", m.Name, err))
			continue
		}
		typ, al := g.goType(m.Type, depth+1)
		name := m.Name
		if name == "" {
			name = "anon" + strconv.Itoa(int(off))
		}
		*out = append(*out, field{name: camel(name), typ: typ, off: off, size: uint32(size), align: al})
	}
}

// structLit writes a Go struct literal with the C layout of a struct or
// union of size bytes and returns its Go alignment.
func (g *generator) structLit(w *bytes.Buffer, size uint32, ms []btf.Member, union bool, depth int) uint32 {
	g.usesStructs = true
	var fs []field
	var bfs []bitfield
	g.fields(ms, 0, union, depth, &fs, &bfs)
	// Go aligns each field to its type's alignment and the struct's size
	// to the largest one: a field C placed where Go would not, or a size
	// that is no multiple of the alignment, turns that field into bytes.
	for i := range fs {
		f := &fs[i]
		if f.align > 1 && (f.off%f.align != 0 || size%f.align != 0) {
			f.comment = "C type " + f.typ + ", at an offset Go cannot align"
			f.typ = fmt.Sprintf("[%d]byte", f.size)
			f.align = 1
		}
	}
	var maxAl uint32 = 1
	w.WriteString("struct {\n_ structs.HostLayout\n")
	seen := map[string]bool{}
	var cur uint32
	for _, f := range fs {
		if f.off < cur || f.off+f.size > size {
			continue // overlaps what is already there
		}
		if f.off > cur {
			g.padding(w, cur, f.off, bfs)
		}
		name := f.name
		for i := 2; seen[name]; i++ {
			name = f.name + strconv.Itoa(i)
		}
		seen[name] = true
		fmt.Fprintf(w, "%s %s", name, f.typ)
		if f.comment != "" {
			w.WriteString(" // " + f.comment)
		}
		w.WriteByte('\n')
		cur = f.off + f.size
		if f.align > maxAl {
			maxAl = f.align
		}
	}
	if size > cur {
		g.padding(w, cur, size, bfs)
	}
	w.WriteString("}")
	return maxAl
}

// padding writes the bytes [from, to) as a blank field, naming the
// bitfields that live there.
func (g *generator) padding(w *bytes.Buffer, from, to uint32, bfs []bitfield) {
	fmt.Fprintf(w, "_ [%d]byte", to-from)
	var in []string
	for _, bf := range bfs {
		if bf.bit >= from*8 && bf.bit < to*8 {
			in = append(in, fmt.Sprintf("%s (bits %d-%d)", bf.name, bf.bit-from*8, bf.bit-from*8+bf.bits-1))
		}
	}
	if len(in) > 0 {
		w.WriteString(" // bitfields: " + strings.Join(in, ", "))
	}
	w.WriteByte('\n')
}
