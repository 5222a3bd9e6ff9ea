package arena_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/bpfarena/bpfarena/arena"
)

// fakeBackend keeps page state in a slice over plain Go memory.
type fakeBackend struct {
	start   uint64
	present []bool
	touched int
}

func (f *fakeBackend) Alloc(addr uint64, count uint32) (uint64, error) {
	for i := 0; i+int(count) <= len(f.present); i++ {
		ok := true
		for j := i; j < i+int(count); j++ {
			ok = ok && !f.present[j]
		}
		if ok {
			for j := i; j < i+int(count); j++ {
				f.present[j] = true
			}
			return f.start + uint64(i)*arena.PageSize, nil
		}
	}
	return 0, arena.ErrNoMemory
}
func (f *fakeBackend) Free(addr uint64, count uint32) error    { return nil }
func (f *fakeBackend) Reserve(addr uint64, count uint32) error { return nil }
func (f *fakeBackend) Present(pg uint32) bool                  { return f.present[pg] }
func (f *fakeBackend) Touch(addr, n uint64) error {
	f.touched++
	for pg := (addr - f.start) / arena.PageSize; pg <= (addr+n-1-f.start)/arena.PageSize; pg++ {
		f.present[pg] = true
	}
	return nil
}

func newArena(pages int) (*arena.Arena, *fakeBackend) {
	mem := make([]byte, pages*arena.PageSize)
	const start = 0x100000000
	b := &fakeBackend{start: start, present: make([]bool, pages)}
	return arena.Wrap(arena.Geometry{Start: start, Pages: uint32(pages), MaxEntries: uint32(pages)}, mem, b), b
}

type node struct {
	Next  arena.Ptr[node]
	Value uint64
}

func TestPtr(t *testing.T) {
	a, b := newArena(4)
	p, err := arena.New[node](a)
	if err != nil {
		t.Fatal(err)
	}
	if p.Addr() != a.Start() || a.PresentPages() != 1 {
		t.Fatalf("New gave %#x, %d pages present", p.Addr(), a.PresentPages())
	}
	n := p.Deref(a)
	n.Value = 7
	n.Next = p.Add(1)
	n.Next.Deref(a).Value = 8
	if got := p.Deref(a).Next.Deref(a).Value; got != 8 {
		t.Fatalf("followed pointer read %d", got)
	}
	if p.Add(1).Addr() != p.Addr()+16 {
		t.Fatalf("Add(1) = %#x", p.Add(1).Addr())
	}
	if b.touched == 0 {
		t.Fatal("Deref did not fault pages in through the backend")
	}
}

func TestDerefOutside(t *testing.T) {
	a, _ := newArena(2)
	for _, addr := range []uint64{0, a.Start() - 1, a.Start() + a.Size() - 8, a.Start() + a.Size(), ^uint64(0) - 4} {
		if d := arena.Ptr[node](addr).Deref(a); d != nil {
			t.Errorf("Deref(%#x) = %p, want nil", addr, d)
		}
	}
	if _, err := arena.Ptr[node](a.Start() + a.Size()).Load(a); !errors.Is(err, arena.ErrInvalid) {
		t.Errorf("Load past the end: %v", err)
	}
	a.Close()
	if _, err := arena.Ptr[node](a.Start()).Load(a); !errors.Is(err, arena.ErrClosed) {
		t.Errorf("Load after Close: %v", err)
	}
}

func TestContains(t *testing.T) {
	a, _ := newArena(2)
	s, n := a.Start(), a.Size()
	for _, c := range []struct {
		addr, len uint64
		want      bool
	}{
		{s, 1, true}, {s, n, true}, {s + n - 1, 1, true}, {s + n, 1, false}, {s - 1, 1, false},
		{s, n + 1, false}, {s + 1, ^uint64(0), false}, {s + n, 0, true},
	} {
		if got := a.Contains(c.addr, c.len); got != c.want {
			t.Errorf("Contains(%#x, %d) = %v", c.addr, c.len, got)
		}
	}
}

func TestCheckType(t *testing.T) {
	for _, c := range []struct {
		v  any
		ok bool
	}{
		{uint64(0), true}, {node{}, true}, {[4]node{}, true}, {struct{ A [3]int32 }{}, true},
		{"", false}, {[]byte{}, false}, {struct{ P *int }{}, false}, {[1]any{}, false}, {map[int]int{}, false},
	} {
		err := arena.CheckType(reflect.TypeOf(c.v))
		if (err == nil) != c.ok {
			t.Errorf("CheckType(%T) = %v", c.v, err)
		}
	}
	if _, err := arena.New[struct{ S string }](nil); err == nil {
		t.Error("New of a type with a Go pointer succeeded")
	}
}

// Specific errors say what went wrong without the sentinel's generic
// text, and still match it.
func TestInvalidErrorText(t *testing.T) {
	_, err := arena.Ptr[uint64](0).Load(nil)
	if !errors.Is(err, arena.ErrInvalid) || err.Error() != "arena: dereference of NULL" {
		t.Fatalf("%v", err)
	}
}
