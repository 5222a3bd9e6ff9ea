package vm

import (
	"errors"
	"fmt"
	"github.com/bpfarena/bpfarena/internal/atomicmem"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/bpfarena/bpfarena/object"
)

// Update flags of bpf_map_update_elem.
const (
	flagAny     = 0
	flagNoExist = 1
	flagExist   = 2
)

// numCPU is how many per-CPU copies a per-CPU map keeps.
var numCPU = runtime.NumCPU()

// vmMap is a map of the vm engine. Every value lives in one fixed slab so
// that the addresses a lookup hands to a program stay valid (and inside
// one bounds-checked region) for the map's life; hash maps allocate slab
// slots from a free list.
type vmMap struct {
	spec      *object.MapSpec
	name      string
	typ       object.MapType
	keySize   uint32
	valueSize uint32
	max       uint32
	percpu    bool
	stride    uint64 // bytes of one CPU's copy of a value (8-aligned)
	slot      uint64 // bytes of one entry (stride, or stride * numCPU)
	slab      []byte
	readOnly  bool // the program may not write (rodata, kconfig)
	handle    uint64

	mu    sync.Mutex
	index map[string]uint32 // hash: key -> slot
	keys  [][]byte          // hash: slot -> key (nil when free)
	free  []uint32
	use   []uint64   // LRU: last use tick per slot
	ring  *ringState // ring buffers only
	// progs are a program array's programs, by index (nil: empty);
	// entries of a map-in-map are 4-byte values holding the inner map's
	// index in the collection plus one (0: empty).
	progs []*program
	tick  uint64
	order []uint32 // hash: insertion order of live slots (for next key)
}

func (m *vmMap) isHash() bool {
	switch m.typ {
	case object.Hash, object.PerCPUHash, object.LRUHash, object.LRUPerCPUHash, object.HashOfMaps:
		return true
	}
	return false
}

func (m *vmMap) isArray() bool {
	switch m.typ {
	case object.Array, object.PerCPUArray, object.ProgArray, object.ArrayOfMaps:
		return true
	}
	return false
}

// holdsRefs reports whether values are references (programs, maps) that
// only the loader sets on the vm.
func (m *vmMap) holdsRefs() bool {
	switch m.typ {
	case object.ProgArray, object.ArrayOfMaps, object.HashOfMaps:
		return true
	}
	return false
}

// lookupInner is bpf_map_lookup_elem on a map-in-map: the inner map's
// handle, or 0.
func (m *vmMap) lookupInner(key []byte) uint64 {
	if m.isHash() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	s, ok := m.lookupSlot(key)
	if !ok {
		return 0
	}
	id := atomic.LoadUint32((*uint32)(unsafe.Pointer(&m.value(s, 0)[0])))
	if id == 0 {
		return 0
	}
	return mapHandleBase + uint64(id-1)*handleStride
}

func newMap(spec *object.MapSpec, handle uint64) (*vmMap, error) {
	m := &vmMap{
		spec: spec, name: spec.Name, typ: spec.Type,
		keySize: spec.KeySize, valueSize: spec.ValueSize, max: spec.MaxEntries,
		handle: handle,
	}
	switch spec.Type {
	case object.Array, object.Hash, object.LRUHash:
	case object.ProgArray, object.ArrayOfMaps, object.HashOfMaps:
		if spec.ValueSize != 4 {
			return nil, fmt.Errorf("map %s: %v with value size %d, want 4: %w", spec.Name, spec.Type, spec.ValueSize, errInval)
		}
		if spec.Type != object.ProgArray && spec.InnerMap == nil {
			return nil, fmt.Errorf("map %s: %v without an inner map definition (__array(values, ...)): %w", spec.Name, spec.Type, errInval)
		}
	case object.PerCPUArray, object.PerCPUHash, object.LRUPerCPUHash:
		m.percpu = true
	case object.RingBuf:
		return newRingMap(m, spec)
	default:
		return nil, fmt.Errorf("map %s: type %d: %w", spec.Name, spec.Type, errNotSupported)
	}
	if spec.MaxEntries == 0 || spec.ValueSize == 0 {
		return nil, fmt.Errorf("map %s: zero max_entries or value size: %w", spec.Name, errInval)
	}
	if m.isHash() && spec.KeySize == 0 {
		return nil, fmt.Errorf("map %s: zero key size: %w", spec.Name, errInval)
	}
	if m.isArray() && spec.KeySize != 4 {
		return nil, fmt.Errorf("map %s: array key size %d: %w", spec.Name, spec.KeySize, errInval)
	}
	m.stride = (uint64(spec.ValueSize) + 7) &^ 7
	m.slot = m.stride
	if m.percpu {
		m.slot *= uint64(numCPU)
	}
	total := m.slot * uint64(spec.MaxEntries)
	if total > 1<<31 {
		return nil, fmt.Errorf("map %s: %d bytes of values: %w", spec.Name, total, errTooBig)
	}
	m.slab = make([]byte, total)
	if m.isHash() {
		m.index = make(map[string]uint32)
		m.keys = make([][]byte, spec.MaxEntries)
		m.free = make([]uint32, spec.MaxEntries)
		for i := range m.free {
			m.free[i] = spec.MaxEntries - 1 - uint32(i)
		}
		if spec.Type == object.LRUHash || spec.Type == object.LRUPerCPUHash {
			m.use = make([]uint64, spec.MaxEntries)
		}
	}
	if len(spec.Contents) > 0 {
		copy(m.slab[:m.valueSize], spec.Contents)
	}
	m.readOnly = spec.ReadOnly || spec.Flags&object.FlagRdonlyProg != 0
	return m, nil
}

// value returns the value bytes of slot s for cpu.
func (m *vmMap) value(s uint32, cpu uint32) []byte {
	o := uint64(s)*m.slot + uint64(cpu%uint32(numCPU))*m.stride*b2u(m.percpu)
	return m.slab[o : o+uint64(m.valueSize) : o+uint64(m.valueSize)]
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// lookupSlot finds the slot of key; the caller holds mu for hash maps.
func (m *vmMap) lookupSlot(key []byte) (uint32, bool) {
	if !m.isHash() {
		i := *(*uint32)(unsafe.Pointer(&key[0]))
		return i, i < m.max
	}
	s, ok := m.index[string(key)]
	if ok && m.use != nil {
		m.tick++
		m.use[s] = m.tick
	}
	return s, ok
}

// lookupAddr is bpf_map_lookup_elem: the address of the value, or 0.
func (m *vmMap) lookupAddr(key []byte, cpu uint32) uint64 {
	if m.isHash() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	s, ok := m.lookupSlot(key)
	if !ok {
		return 0
	}
	return addrOf(m.value(s, cpu))
}

// update is bpf_map_update_elem; values holds one value, or for per-CPU
// maps from user space one per CPU (allCPUs).
func (m *vmMap) update(key, val []byte, flags uint64, cpu uint32, allCPUs bool) syscall.Errno {
	if flags&^3 != 0 || flags == 3 {
		return eINVAL
	}
	if !m.isHash() {
		i := *(*uint32)(unsafe.Pointer(&key[0]))
		if i >= m.max {
			return eE2BIG
		}
		if flags == flagNoExist {
			return eEXIST
		}
		m.store(i, val, cpu, allCPUs)
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.index[string(key)]
	switch {
	case ok && flags == flagNoExist:
		return eEXIST
	case !ok && flags == flagExist:
		return eNOENT
	case !ok:
		if len(m.free) == 0 {
			if m.use == nil {
				return eE2BIG
			}
			m.evict()
		}
		s = m.free[len(m.free)-1]
		m.free = m.free[:len(m.free)-1]
		k := append([]byte(nil), key...)
		m.keys[s] = k
		m.index[string(k)] = s
		m.order = append(m.order, s)
		clear(m.slab[uint64(s)*m.slot : uint64(s+1)*m.slot])
	}
	if m.use != nil {
		m.tick++
		m.use[s] = m.tick
	}
	m.store(s, val, cpu, allCPUs)
	return 0
}

// store writes a value word by word atomically: programs may be running
// atomics on it through a pointer from bpf_map_lookup_elem.
func (m *vmMap) store(s uint32, val []byte, cpu uint32, allCPUs bool) {
	if m.percpu && allCPUs {
		for c := 0; c < numCPU; c++ {
			atomicmem.Store(m.value(s, uint32(c)), val[uint64(c)*m.stride:])
		}
		return
	}
	atomicmem.Store(m.value(s, cpu), val)
}

// evict drops the least recently used entry; mu is held.
func (m *vmMap) evict() {
	best, bestTick := uint32(0), ^uint64(0)
	for _, s := range m.order {
		if m.use[s] < bestTick {
			best, bestTick = s, m.use[s]
		}
	}
	m.remove(best)
}

func (m *vmMap) remove(s uint32) {
	delete(m.index, string(m.keys[s]))
	m.keys[s] = nil
	m.free = append(m.free, s)
	for i, o := range m.order {
		if o == s {
			m.order = append(m.order[:i], m.order[i+1:]...)
			break
		}
	}
}

// delete is bpf_map_delete_elem.
func (m *vmMap) delete(key []byte) syscall.Errno {
	if !m.isHash() {
		return eINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.index[string(key)]
	if !ok {
		return eNOENT
	}
	m.remove(s)
	return 0
}

// Map is a map of a vm collection, for Go code.
type Map struct{ m *vmMap }

var errNotSupported = errors.New("not supported by the vm engine")

func (mp *Map) checkKey(key []byte) error {
	if mp.m.holdsRefs() {
		return fmt.Errorf("map %s: the vm fills a %v from the object's static values only (.values = { ... }): %w",
			mp.m.name, mp.m.typ, syscall.EOPNOTSUPP)
	}
	if mp.m.ring != nil {
		return fmt.Errorf("map %s: element operations on a ring buffer: %w", mp.m.name, syscall.EOPNOTSUPP)
	}
	if uint32(len(key)) != mp.m.keySize {
		return fmt.Errorf("map %s: key of %d bytes, want %d: %w", mp.m.name, len(key), mp.m.keySize, errInval)
	}
	return nil
}

// Lookup returns a copy of the value of key; per-CPU maps give every CPU's
// value, each padded to 8 bytes, as the kernel does.
func (mp *Map) Lookup(key []byte) ([]byte, error) {
	if err := mp.checkKey(key); err != nil {
		return nil, err
	}
	m := mp.m
	if m.isHash() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	s, ok := m.lookupSlot(key)
	if !ok {
		return nil, fmt.Errorf("map %s: lookup: %w", m.name, errNoEnt)
	}
	if m.percpu {
		out := make([]byte, m.stride*uint64(numCPU))
		for c := 0; c < numCPU; c++ {
			v := m.value(s, uint32(c))
			atomicmem.Load(out[uint64(c)*m.stride:][:len(v)], v)
		}
		return out, nil
	}
	v := m.value(s, 0)
	out := make([]byte, len(v))
	atomicmem.Load(out, v)
	return out, nil
}

// Update sets the value of key.
func (mp *Map) Update(key, value []byte, flags uint64) error {
	if err := mp.checkKey(key); err != nil {
		return err
	}
	m := mp.m
	want := uint64(m.valueSize)
	if m.percpu {
		want = m.stride * uint64(numCPU)
	}
	if uint64(len(value)) != want {
		return fmt.Errorf("map %s: value of %d bytes, want %d: %w", m.name, len(value), want, errInval)
	}
	if e := m.update(key, value, flags, 0, true); e != 0 {
		return fmt.Errorf("map %s: update: %w", m.name, e)
	}
	return nil
}

// Delete removes key.
func (mp *Map) Delete(key []byte) error {
	if err := mp.checkKey(key); err != nil {
		return err
	}
	if e := mp.m.delete(key); e != 0 {
		return fmt.Errorf("map %s: delete: %w", mp.m.name, e)
	}
	return nil
}

// FD is -1: vm maps have no file descriptor.
func (mp *Map) FD() int { return -1 }

// arenaMap is the arena as an engine.Map: the kernel refuses every element
// operation on it.
type arenaMap struct{}

func (arenaMap) Lookup([]byte) ([]byte, error) { return nil, fmt.Errorf("arena: lookup: %w", errInval) }
func (arenaMap) Update([]byte, []byte, uint64) error {
	return fmt.Errorf("arena: update: %w", syscall.EOPNOTSUPP)
}
func (arenaMap) Delete([]byte) error { return fmt.Errorf("arena: delete: %w", syscall.EOPNOTSUPP) }
func (arenaMap) FD() int             { return -1 }
