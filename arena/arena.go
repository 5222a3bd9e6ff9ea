// Package arena gives Go code access to a BPF arena: the sparse memory
// region, up to 4 GiB, that BPF programs and user space share.
//
// An Arena is the same type on every engine. Its memory is mapped into this
// process at the arena's user address (user_vm_start), so the pointers that
// BPF programs store in it are real addresses here, and Ptr follows them.
package arena

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// PageSize is the size of an arena page.
const PageSize = 4096

// Errors returned by page operations. They match the kfuncs' errors:
// ErrBusy is -EBUSY, ErrInvalid is -EINVAL, ErrNoMemory is a NULL from
// bpf_arena_alloc_pages.
var (
	ErrBusy     = errors.New("arena: page already allocated or reserved")
	ErrInvalid  = errors.New("arena: invalid address or page count")
	ErrNoMemory = errors.New("arena: no room for the requested pages")
	// ErrClosed: the collection that owns the arena was closed. The
	// bpfarena package's ErrClosed is the same error.
	ErrClosed = errors.New("collection closed")
)

// Backend is what an engine provides to an Arena: the page operations with
// the kfuncs' rules. Addresses are full user addresses; page counts are
// pages. Implementations are safe for concurrent use.
type Backend interface {
	// Alloc allocates count zeroed pages at addr, or where
	// bpf_arena_alloc_pages with a NULL address would (best fit: the
	// smallest free range large enough) when addr is 0, and returns the
	// address of the first page.
	Alloc(addr uint64, count uint32) (uint64, error)
	// Free frees count pages from addr (clipped at the end of the arena)
	// and releases reservations there.
	Free(addr uint64, count uint32) error
	// Reserve marks count pages from addr as never handed out by Alloc.
	Reserve(addr uint64, count uint32) error
	// Present reports whether the page at page offset pgoff is present.
	Present(pgoff uint32) bool
	// Touch makes the pages covering [addr, addr+n) present, as a user
	// space access to them would (a zero page for each absent one). With
	// BPF_F_SEGV_ON_FAULT it returns an error for absent pages instead.
	Touch(addr uint64, n uint64) error
}

// Geometry is an arena's place and size.
type Geometry struct {
	Start uint64 // user_vm_start
	Pages uint32 // usable pages (the mmapped size)
	// MaxEntries is the map's max_entries; Flags its map_flags.
	MaxEntries uint32
	Flags      uint32
}

// Arena is a BPF arena mapped into this process.
type Arena struct {
	geo     Geometry
	mem     []byte // the mapping: Pages*PageSize bytes at Start
	backend Backend

	// mu orders every operation against Close: operations hold it for
	// reading, so Close, which takes it for writing before the engine
	// unmaps the memory, waits for the ones in flight, and later ones see
	// closed.
	mu     sync.RWMutex
	closed bool
}

// use runs f unless the arena is closed, with Close held off until f
// returns.
func (a *Arena) use(f func() error) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return ErrClosed
	}
	return f()
}

// Wrap wraps an engine's arena. mem is the arena's mapping in this process,
// starting at geo.Start. It is meant for engines, not for users.
func Wrap(geo Geometry, mem []byte, b Backend) *Arena {
	return &Arena{geo: geo, mem: mem, backend: b}
}

// Start is the arena's user address, user_vm_start.
func (a *Arena) Start() uint64 { return a.geo.Start }

// Size is the arena's size in bytes.
func (a *Arena) Size() uint64 { return uint64(a.geo.Pages) * PageSize }

// Pages is the number of usable pages.
func (a *Arena) Pages() uint32 { return a.geo.Pages }

// Geometry returns the arena's place, size and flags.
func (a *Arena) Geometry() Geometry { return a.geo }

// Contains reports whether [addr, addr+n) lies inside the arena.
func (a *Arena) Contains(addr, n uint64) bool {
	return addr >= a.geo.Start && n <= a.Size() && addr-a.geo.Start <= a.Size()-n
}

// PresentPages counts the pages currently present (0 once closed).
func (a *Arena) PresentPages() int {
	n := 0
	a.use(func() error {
		// A backend that has to ask the kernel page by page can count
		// faster over ranges.
		if c, ok := a.backend.(interface{ PresentPages() int }); ok {
			n = c.PresentPages()
			return nil
		}
		for i := uint32(0); i < a.geo.Pages; i++ {
			if a.backend.Present(i) {
				n++
			}
		}
		return nil
	})
	return n
}

// Present reports whether the page holding addr is present (false once
// closed).
func (a *Arena) Present(addr uint64) bool {
	if !a.Contains(addr, 1) {
		return false
	}
	ok := false
	a.use(func() error {
		ok = a.backend.Present(uint32((addr - a.geo.Start) / PageSize))
		return nil
	})
	return ok
}

// Alloc allocates count zeroed pages where bpf_arena_alloc_pages with a
// NULL address would: best fit, the smallest free range that is large
// enough (not the lowest address).
func (a *Arena) Alloc(count uint32) (uint64, error) {
	var got uint64
	err := a.use(func() (err error) {
		got, err = a.backend.Alloc(0, count)
		return err
	})
	return got, err
}

// AllocAt allocates count zeroed pages exactly at addr.
func (a *Arena) AllocAt(addr uint64, count uint32) (uint64, error) {
	if addr == 0 {
		return 0, invalidf("arena: alloc at address 0")
	}
	var got uint64
	err := a.use(func() (err error) {
		got, err = a.backend.Alloc(addr, count)
		return err
	})
	return got, err
}

// Free frees count pages starting at addr, like bpf_arena_free_pages.
func (a *Arena) Free(addr uint64, count uint32) error {
	return a.use(func() error { return a.backend.Free(addr, count) })
}

// Reserve reserves count pages at addr, like bpf_arena_reserve_pages.
func (a *Arena) Reserve(addr uint64, count uint32) error {
	return a.use(func() error { return a.backend.Reserve(addr, count) })
}

// Bytes returns the n bytes of arena memory at addr, faulting absent pages
// in as a user space access would. The slice aliases the arena.
func (a *Arena) Bytes(addr, n uint64) ([]byte, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return nil, ErrClosed
	}
	if !a.Contains(addr, n) {
		return nil, invalidf("arena: [%#x, %#x) is outside [%#x, %#x)",
			addr, addr+n, a.geo.Start, a.geo.Start+a.Size())
	}
	if err := a.backend.Touch(addr, n); err != nil {
		return nil, err
	}
	off := addr - a.geo.Start
	return a.mem[off : off+n : off+n], nil
}

// Close marks the arena closed, after the operations in flight have
// returned; engines unmap it afterwards. It is meant for engines.
func (a *Arena) Close() {
	a.mu.Lock()
	a.closed = true
	a.mem = nil
	a.mu.Unlock()
}

// Ptr is a pointer into an arena to a value of type T, stored as the full
// user address, exactly as BPF programs store arena pointers. T must hold
// no Go pointers.
type Ptr[T any] uint64

// IsNil reports whether p is the NULL pointer.
func (p Ptr[T]) IsNil() bool { return p == 0 }

// Addr returns p's address.
func (p Ptr[T]) Addr() uint64 { return uint64(p) }

// Add returns p advanced by i elements of T.
func (p Ptr[T]) Add(i int) Ptr[T] {
	var zero T
	return Ptr[T](uint64(p) + uint64(int64(i)*int64(unsafe.Sizeof(zero))))
}

// Deref returns a Go pointer to the value p points to, faulting its pages
// in. It returns nil for a NULL pointer, a pointer outside a, a closed
// arena or a T that holds Go pointers. The result must not be used after
// the arena is closed.
func (p Ptr[T]) Deref(a *Arena) *T {
	t, err := p.Load(a)
	if err != nil {
		return nil
	}
	return t
}

// Load is Deref with the reason for a nil result.
func (p Ptr[T]) Load(a *Arena) (*T, error) {
	var zero T
	if err := checkPointerFree(reflect.TypeOf(zero)); err != nil {
		return nil, err
	}
	if p == 0 {
		return nil, invalidf("arena: dereference of NULL")
	}
	b, err := a.Bytes(uint64(p), uint64(unsafe.Sizeof(zero)))
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return &zero, nil
	}
	return (*T)(unsafe.Pointer(&b[0])), nil
}

// New allocates room for one T (whole pages) and returns a pointer to it.
func New[T any](a *Arena) (Ptr[T], error) {
	var zero T
	if err := checkPointerFree(reflect.TypeOf(zero)); err != nil {
		return 0, err
	}
	size := uint64(unsafe.Sizeof(zero))
	pages := uint32((size + PageSize - 1) / PageSize)
	if pages == 0 {
		pages = 1
	}
	addr, err := a.Alloc(pages)
	if err != nil {
		return 0, err
	}
	return Ptr[T](addr), nil
}

var pointerFree sync.Map // reflect.Type -> error

// CheckType returns an error unless values of type t hold no Go pointers
// (pointers, slices, strings, maps, interfaces...), which must never be
// stored in memory the garbage collector does not see.
func CheckType(t reflect.Type) error { return checkPointerFree(t) }

func checkPointerFree(t reflect.Type) error {
	if t == nil {
		return invalidf("arena: nil type")
	}
	if v, ok := pointerFree.Load(t); ok {
		if v == nil {
			return nil
		}
		return v.(error)
	}
	var err error
	if hasPointers(t) {
		err = invalidf("arena: type %s holds Go pointers and cannot live in an arena", t)
	}
	pointerFree.Store(t, err)
	return err
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Slice, reflect.Map, reflect.Chan,
		reflect.Func, reflect.Interface, reflect.String:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// invalidError is an ErrInvalid whose message says all there is to say,
// without the sentinel's generic text after it.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{fmt.Sprintf(format, args...)}
}
