//go:build linux

package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
	"golang.org/x/sys/unix"
)

// TestSegvOnFault checks that with BPF_F_SEGV_ON_FAULT Go never touches an
// absent page (which would kill the process): the arena globals' pages are
// allocated before their image is copied, and Bytes on an absent page is
// an error.
func TestSegvOnFault(t *testing.T) {
	requireKernel(t)
	spec, m := arenaSpec(8, 0, object.FlagSegvOnFault)
	m.Contents = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	c, err := Load(spec, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := c.Arena()
	b, err := a.Bytes(a.Start(), 8)
	if err != nil {
		t.Fatalf("arena globals: %v", err)
	}
	if !bytes.Equal(b, m.Contents) {
		t.Errorf("arena globals %x, want %x", b, m.Contents)
	}
	if _, err := a.Bytes(a.Start()+3*arena.PageSize, 8); !errors.Is(err, arena.ErrInvalid) {
		t.Errorf("Bytes of an absent page: %v, want an error", err)
	}
	addr, err := a.Alloc(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Bytes(addr, arena.PageSize); err != nil {
		t.Errorf("Bytes of an allocated page: %v", err)
	}
}

// TestMaps creates the ordinary map types next to an arena and uses them
// through the Map interface.
func TestMaps(t *testing.T) {
	requireKernel(t)
	ncpu, err := possibleCPUs()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		m         *object.MapSpec
		valueSize int // as Lookup returns it
		deletable bool
	}{
		{&object.MapSpec{Name: "hash", Type: object.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16}, 8, true},
		{&object.MapSpec{Name: "array", Type: object.Array, KeySize: 4, ValueSize: 12, MaxEntries: 4}, 12, false},
		{&object.MapSpec{Name: "lru", Type: object.LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 16}, 8, true},
		{&object.MapSpec{Name: "pcpu_array", Type: object.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}, 8 * ncpu, false},
		{&object.MapSpec{Name: "pcpu_hash", Type: object.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 2}, 8 * ncpu, true},
		{&object.MapSpec{Name: "a_very_long_map_name", Type: object.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 2}, 8, true},
		{&object.MapSpec{Name: "inner_like", Type: object.Array, KeySize: 4, ValueSize: 8, MaxEntries: 2}, 8, false},
	}
	spec, _ := arenaSpec(1, 0, 0)
	for _, tt := range tests {
		tt.m.Section = ".maps"
		spec.Maps = append(spec.Maps, tt.m)
	}
	spec.Maps = append(spec.Maps, &object.MapSpec{Name: "rb", Type: object.RingBuf, MaxEntries: 4096, Section: ".maps"})
	spec.Maps = append(spec.Maps, &object.MapSpec{Name: "outer", Type: object.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, Section: ".maps",
		InnerMap: &object.MapSpec{Name: "inner", Type: object.Array, KeySize: 4, ValueSize: 8, MaxEntries: 2}})
	c, err := Load(spec, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tt := range tests {
		t.Run(tt.m.Name, func(t *testing.T) {
			m, ok := c.Map(tt.m.Name)
			if !ok {
				t.Fatal("missing")
			}
			key := binary.LittleEndian.AppendUint32(nil, 1)
			val := bytes.Repeat([]byte{0xab}, tt.valueSize)
			if err := m.Update(key, val, 0); err != nil {
				t.Fatal(err)
			}
			got, err := m.Lookup(key)
			want := val
			if stride := (tt.m.ValueSize + 7) &^ 7; tt.valueSize > int(tt.m.ValueSize) && stride != tt.m.ValueSize {
				// Per-CPU values sit 8-byte aligned; the kernel keeps
				// only ValueSize bytes of each and reads zero padding.
				want = make([]byte, len(val))
				for off := 0; off < len(want); off += int(stride) {
					copy(want[off:off+int(tt.m.ValueSize)], val[off:])
				}
			}
			// 6.12 keeps the padding the update wrote; 7.3 reads it as
			// zeros. Both are the kernel's.
			if err != nil || !bytes.Equal(got, want) && !bytes.Equal(got, val) {
				t.Fatalf("lookup %x, %v; want %x", got, err, want)
			}
			err = m.Delete(key)
			switch {
			case tt.deletable && err != nil:
				t.Errorf("delete: %v", err)
			case !tt.deletable && !errors.Is(err, unix.EINVAL):
				t.Errorf("delete from an array: %v, want EINVAL", err)
			}
			if tt.deletable {
				if _, err := m.Lookup(key); !errors.Is(err, unix.ENOENT) {
					t.Errorf("lookup after delete: %v, want ENOENT", err)
				}
			}
		})
	}
	if m, ok := c.Map("rb"); !ok || m.FD() < 0 {
		t.Error("ring buffer missing")
	}
	// A map of maps takes the fd of a map shaped like its template.
	outer, _ := c.Map("outer")
	inner, _ := c.Map("array")
	if err := outer.Update(make([]byte, 4), binary.LittleEndian.AppendUint32(nil, uint32(inner.FD())), 0); !errors.Is(err, unix.EINVAL) {
		t.Errorf("outer map took a map of another shape: %v", err)
	}
	like, _ := c.Map("inner_like")
	if err := outer.Update(make([]byte, 4), binary.LittleEndian.AppendUint32(nil, uint32(like.FD())), 0); err != nil {
		t.Errorf("outer map refused a map of the template's shape: %v", err)
	}
	// The arena itself refuses element operations, as the kernel does.
	m, _ := c.Map("arena")
	if _, err := m.Lookup(nil); !errors.Is(err, unix.EINVAL) {
		t.Errorf("arena lookup: %v, want EINVAL", err)
	}
}
