package object

import (
	"fmt"
	"maps"
	"slices"
	"sort"
)

// Program returns the entry program called name, or nil.
func (s *Spec) Program(name string) *ProgramSpec {
	for _, p := range s.Programs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Map returns the map called name (a .maps variable or a data section
// name such as ".bss"), or nil.
func (s *Spec) Map(name string) *MapSpec {
	for _, m := range s.Maps {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Arena returns the arena map, or nil if the object declares none.
func (s *Spec) Arena() *MapSpec {
	for _, m := range s.Maps {
		if m.IsArena() {
			return m
		}
	}
	return nil
}

// Variable returns the global variable called name, or nil.
func (s *Spec) Variable(name string) *VariableSpec {
	for _, v := range s.Variables {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Extern returns the extern called name, or nil.
func (s *Spec) Extern(name string) *ExternSpec {
	for _, e := range s.Externs {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// SetVariable sets the initial value of a global variable: value is
// written into the Contents of the map that holds it (the arena's initial
// image for arena globals). value must be exactly the variable's size.
// Read-only (.rodata) variables can be set too: that is what they are for,
// before the map is frozen.
func (s *Spec) SetVariable(name string, value []byte) error {
	v := s.Variable(name)
	if v == nil {
		return fmt.Errorf("set variable %q: no such variable", name)
	}
	if uint32(len(value)) != v.Size {
		return fmt.Errorf("set variable %q: value is %d bytes, variable is %d", name, len(value), v.Size)
	}
	if v.Map == nil {
		return fmt.Errorf("set variable %q: section %s has no map", name, v.Section)
	}
	end := int(v.Offset) + len(value)
	if end > len(v.Map.Contents) {
		return fmt.Errorf("set variable %q: [%d, %d) is outside the %d bytes of %s", name, v.Offset, end, len(v.Map.Contents), v.Map.Name)
	}
	copy(v.Map.Contents[v.Offset:], value)
	return nil
}

// LineAt returns the line info that covers instruction index: the last
// record at or before it. It returns nil if there is none.
func (p *ProgramSpec) LineAt(index int) *Line {
	i := sort.Search(len(p.Lines), func(i int) bool { return p.Lines[i].Index > index })
	if i == 0 {
		return nil
	}
	return &p.Lines[i-1]
}

// FuncAt returns the function of the linked program that holds
// instruction index, or nil.
func (p *ProgramSpec) FuncAt(index int) *Func {
	i := sort.Search(len(p.Funcs), func(i int) bool { return p.Funcs[i].Index > index })
	if i == 0 || index >= len(p.Instructions) {
		return nil
	}
	return &p.Funcs[i-1]
}

// Copy returns a copy of p that can be modified (instructions patched,
// relocations resolved) without affecting p. Maps, externs and BTF types
// the copy refers to are shared.
func (p *ProgramSpec) Copy() *ProgramSpec {
	c := *p
	c.Instructions = slices.Clone(p.Instructions)
	c.Relocations = maps.Clone(p.Relocations)
	c.Funcs = slices.Clone(p.Funcs)
	for i := range c.Funcs {
		c.Funcs[i].ArenaArgs = slices.Clone(c.Funcs[i].ArenaArgs)
	}
	c.Lines = slices.Clone(p.Lines)
	c.CORERelos = maps.Clone(p.CORERelos)
	c.Tags = slices.Clone(p.Tags)
	return &c
}

// Copy returns a deep copy of s: maps (with their Contents), variables,
// externs and programs are new and refer to each other; BTF types and
// RawBTF are shared, as nothing modifies them. Use it to apply
// SetVariable to one loaded instance without touching the parsed Spec.
func (s *Spec) Copy() *Spec {
	c := *s
	mapsOf := make(map[*MapSpec]*MapSpec)
	var cloneMap func(m *MapSpec) *MapSpec
	cloneMap = func(m *MapSpec) *MapSpec {
		if m == nil {
			return nil
		}
		if n, ok := mapsOf[m]; ok {
			return n
		}
		n := *m
		n.Contents = slices.Clone(m.Contents)
		n.Slots = slices.Clone(m.Slots)
		mapsOf[m] = &n
		n.InnerMap = cloneMap(m.InnerMap)
		return &n
	}
	c.Maps = make([]*MapSpec, len(s.Maps))
	for i, m := range s.Maps {
		c.Maps[i] = cloneMap(m)
	}
	externs := make(map[*ExternSpec]*ExternSpec)
	c.Externs = make([]*ExternSpec, len(s.Externs))
	for i, e := range s.Externs {
		n := *e
		externs[e] = &n
		c.Externs[i] = &n
	}
	c.Variables = make([]*VariableSpec, len(s.Variables))
	for i, v := range s.Variables {
		n := *v
		n.Map = cloneMap(v.Map)
		c.Variables[i] = &n
	}
	c.Programs = make([]*ProgramSpec, len(s.Programs))
	for i, p := range s.Programs {
		n := p.Copy()
		for k, r := range n.Relocations {
			r.Map = cloneMap(r.Map)
			if e, ok := externs[r.Extern]; ok {
				r.Extern = e
			}
			n.Relocations[k] = r
		}
		c.Programs[i] = n
	}
	return &c
}
