package bpfarena

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/internal/atomicmem"
	"github.com/bpfarena/bpfarena/object"
)

// Variable is a global variable of a loaded collection, seen as bytes.
// Its memory is the one the programs use: writes are seen by the next run.
type Variable struct {
	Spec *object.VariableSpec
	coll *Collection
}

// Variable returns the named global (from .bss, .data, .rodata, .kconfig
// or the arena), or an error wrapping ErrNotFound.
func (c *Collection) Variable(name string) (*Variable, error) {
	vs := c.spec.Variable(name)
	if vs == nil {
		return nil, fmt.Errorf("global %q: %w", name, ErrNotFound)
	}
	return &Variable{Spec: vs, coll: c}, nil
}

// Variables lists every global of the collection.
func (c *Collection) Variables() []*Variable {
	out := make([]*Variable, 0, len(c.spec.Variables))
	for _, vs := range c.spec.Variables {
		out = append(out, &Variable{Spec: vs, coll: c})
	}
	return out
}

// ReadOnly reports whether programs see the variable as constant.
func (v *Variable) ReadOnly() bool {
	return v.Spec.Map != nil && v.Spec.Map.ReadOnly
}

// Bytes returns the variable's live memory. The slice aliases the memory
// the programs use and must not be written for read-only variables or
// used after Close. Read, Write and Var's methods are safe against running
// programs' atomics and against Close; plain accesses through the slice
// are not.
func (v *Variable) Bytes() ([]byte, error) {
	var b []byte
	err := v.use(func(mem []byte) error {
		b = mem
		return nil
	})
	return b, err
}

// use runs f on the variable's memory with the collection open.
func (v *Variable) use(f func(mem []byte) error) error {
	return v.coll.use("global", v.Spec.Name, func() error {
		mem, err := v.mem()
		if err != nil {
			return err
		}
		return f(mem)
	})
}

// mem finds the variable's memory; the collection's lock is held.
func (v *Variable) mem() ([]byte, error) {
	c := v.coll
	vs := v.Spec
	if vs.Map == nil {
		return nil, fmt.Errorf("global %q has no backing map: %w", vs.Name, ErrNotFound)
	}
	if vs.Map.IsArena() {
		a := c.eng.Arena()
		if a == nil {
			return nil, fmt.Errorf("global %q: the collection has no arena: %w", vs.Name, ErrNotFound)
		}
		return a.Bytes(a.Start()+uint64(vs.Offset), uint64(vs.Size))
	}
	mem, ok := c.eng.Data(vs.Map)
	if !ok {
		return nil, fmt.Errorf("global %q: section %s is not loaded: %w", vs.Name, vs.Section, ErrNotFound)
	}
	end := uint64(vs.Offset) + uint64(vs.Size)
	if end > uint64(len(mem)) {
		return nil, fmt.Errorf("global %q: [%d, %d) lies outside its %d-byte section %s",
			vs.Name, vs.Offset, end, len(mem), vs.Section)
	}
	return mem[vs.Offset:end:end], nil
}

// Read copies the variable's current value.
func (v *Variable) Read() ([]byte, error) {
	var out []byte
	err := v.use(func(mem []byte) error {
		out = make([]byte, len(mem))
		atomicmem.Load(out, mem)
		return nil
	})
	return out, err
}

// Write overwrites the variable's value; len(b) must equal its size.
func (v *Variable) Write(b []byte) error {
	if v.ReadOnly() {
		return fmt.Errorf("global %q in %s: %w", v.Spec.Name, v.Spec.Section, ErrReadOnly)
	}
	if uint32(len(b)) != v.Spec.Size {
		return fmt.Errorf("global %q: writing %d bytes to a %d-byte variable", v.Spec.Name, len(b), v.Spec.Size)
	}
	return v.use(func(mem []byte) error {
		atomicmem.Store(mem, b)
		return nil
	})
}

// Value decodes the variable by its BTF type into JSON-friendly Go values:
// integers, pointers and enums as int64/uint64, arrays as slices, structs
// as ordered objects.
func (v *Variable) Value() (any, error) {
	b, err := v.Read()
	if err != nil {
		return nil, err
	}
	return decodeBTF(v.Spec.Type, b)
}

// Var is a typed view of a global variable. T must be pointer-free and
// exactly as large as the variable.
type Var[T any] struct {
	v *Variable
}

// Global returns a typed view of the named global. Globals in every
// section, arena globals included, are reachable.
func Global[T any](c *Collection, name string) (*Var[T], error) {
	v, err := c.Variable(name)
	if err != nil {
		return nil, err
	}
	var zero T
	t := reflect.TypeOf(zero)
	if err := arena.CheckType(t); err != nil {
		return nil, fmt.Errorf("global %q: %w", name, err)
	}
	if size := unsafe.Sizeof(zero); uint32(size) != v.Spec.Size {
		return nil, fmt.Errorf("global %q is %d bytes, %v is %d", name, v.Spec.Size, t, size)
	}
	return &Var[T]{v: v}, nil
}

// Get returns the current value (the zero value if the collection is
// closed). Words that programs change with atomics are read atomically.
func (g *Var[T]) Get() T {
	var out T
	g.v.use(func(mem []byte) error {
		atomicmem.Load(unsafe.Slice((*byte)(unsafe.Pointer(&out)), unsafe.Sizeof(out)), mem)
		return nil
	})
	return out
}

// Load is Get with an error wrapping ErrClosed once the collection is closed.
func (g *Var[T]) Load() (T, error) {
	var out T
	err := g.v.use(func(mem []byte) error {
		atomicmem.Load(unsafe.Slice((*byte)(unsafe.Pointer(&out)), unsafe.Sizeof(out)), mem)
		return nil
	})
	return out, err
}

// Set stores x. It fails for read-only globals.
func (g *Var[T]) Set(x T) error {
	b := unsafe.Slice((*byte)(unsafe.Pointer(&x)), unsafe.Sizeof(x))
	return g.v.Write(b)
}

// Variable is the untyped view.
func (g *Var[T]) Variable() *Variable { return g.v }

// ParseValue encodes text as the bytes of a value of the variable's type,
// for `bpfarena run --set`: integers and enums (decimal, 0x hex, negative,
// or an enumerator name), or a string for char arrays.
func ParseValue(vs *object.VariableSpec, text string) ([]byte, error) {
	return encodeBTF(vs.Type, vs.Size, strings.TrimSpace(text))
}
