package vm

import (
	"encoding/binary"
	"fmt"
	"sync"
	"syscall"

	"github.com/bpfarena/bpfarena/object"
)

// Ring buffers. The vm has no consumer, so a ring behaves as the kernel's
// does while nobody reads it: records are laid out one after the other
// (8-byte header, data, padding to 8), and once the ring is full every
// reservation fails. That is all a program can observe.
type ringState struct {
	mu   sync.Mutex
	prod uint64 // bytes produced (the kernel's producer position)
}

// Record header bits, as the kernel's ring buffer sets them in the length.
const (
	ringBusy     = 1 << 31
	ringDiscard  = 1 << 30
	ringHdrSize  = 8
	ringMaxFlags = 3 // BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP
)

func newRingMap(m *vmMap, spec *object.MapSpec) (*vmMap, error) {
	size := spec.MaxEntries
	if spec.KeySize != 0 || spec.ValueSize != 0 || size == 0 || size%pageSize != 0 || size&(size-1) != 0 {
		return nil, fmt.Errorf("map %s: ring buffer size %d (a power of 2 and of pages, no key or value): %w",
			spec.Name, size, errInval)
	}
	m.ring = &ringState{}
	m.slab = make([]byte, size)
	return m, nil
}

func (m *machine) ringArg(h uint64) (*vmMap, error) {
	mp, err := m.anyMapArg(h)
	if err != nil {
		return nil, err
	}
	if mp.ring == nil {
		return nil, fmt.Errorf("map %s is not a ring buffer", mp.name)
	}
	return mp, nil
}

// reserve returns the offset of a new busy record's data, or false.
func (mp *vmMap) reserve(size uint64) (uint64, bool) {
	r := mp.ring
	total := (size + ringHdrSize + 7) &^ 7
	if size == 0 || size > uint64(len(mp.slab))-ringHdrSize {
		return 0, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.prod+total > uint64(len(mp.slab)) {
		return 0, false
	}
	off := r.prod
	r.prod += total
	binary.LittleEndian.PutUint32(mp.slab[off:], uint32(size)|ringBusy)
	binary.LittleEndian.PutUint32(mp.slab[off+4:], uint32(off/pageSize))
	return off + ringHdrSize, true
}

func bpfRingReserve(m *machine, h, size, flags, _, _ uint64, _ int) (uint64, error) {
	mp, err := m.ringArg(h)
	if err != nil {
		return 0, err
	}
	if flags != 0 {
		return 0, nil
	}
	off, ok := mp.reserve(size)
	if !ok {
		return 0, nil
	}
	return addrOf(mp.slab) + off, nil
}

// ringRecord finds the ring and the header of the record at data.
func (m *machine) ringRecord(data uint64) (*vmMap, []byte, error) {
	for _, mp := range m.c.maps {
		if mp == nil || mp.ring == nil {
			continue
		}
		base := addrOf(mp.slab)
		if data >= base+ringHdrSize && data < base+uint64(len(mp.slab)) {
			hdr := mp.slab[data-base-ringHdrSize : data-base]
			if binary.LittleEndian.Uint32(hdr)&ringBusy == 0 {
				return nil, nil, fmt.Errorf("ring buffer record at %#x is not reserved", data)
			}
			return mp, hdr, nil
		}
	}
	return nil, nil, fmt.Errorf("%#x is not a ring buffer record", data)
}

func bpfRingSubmit(m *machine, data, _, _, _, _ uint64, _ int) (uint64, error) {
	mp, hdr, err := m.ringRecord(data)
	if err != nil {
		return 0, err
	}
	mp.ring.mu.Lock()
	binary.LittleEndian.PutUint32(hdr, binary.LittleEndian.Uint32(hdr)&^ringBusy)
	mp.ring.mu.Unlock()
	return 0, nil
}

func bpfRingDiscard(m *machine, data, _, _, _, _ uint64, _ int) (uint64, error) {
	mp, hdr, err := m.ringRecord(data)
	if err != nil {
		return 0, err
	}
	mp.ring.mu.Lock()
	binary.LittleEndian.PutUint32(hdr, binary.LittleEndian.Uint32(hdr)&^ringBusy|ringDiscard)
	mp.ring.mu.Unlock()
	return 0, nil
}

func bpfRingOutput(m *machine, h, data, size, flags, _ uint64, _ int) (uint64, error) {
	mp, err := m.ringArg(h)
	if err != nil {
		return 0, err
	}
	if flags&^ringMaxFlags != 0 {
		return negErrno(eINVAL), nil
	}
	src, err := m.mem(data, size, false)
	if err != nil {
		return 0, err
	}
	off, ok := mp.reserve(size)
	if !ok {
		return negErrno(syscall.EAGAIN), nil
	}
	copy(mp.slab[off:], src)
	mp.ring.mu.Lock()
	hdr := mp.slab[off-ringHdrSize:]
	binary.LittleEndian.PutUint32(hdr, binary.LittleEndian.Uint32(hdr)&^ringBusy)
	mp.ring.mu.Unlock()
	return 0, nil
}

// bpfRingQuery answers BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS
// and BPF_RB_PROD_POS; the consumer position stays 0.
func bpfRingQuery(m *machine, h, flags, _, _, _ uint64, _ int) (uint64, error) {
	mp, err := m.ringArg(h)
	if err != nil {
		return 0, err
	}
	mp.ring.mu.Lock()
	defer mp.ring.mu.Unlock()
	switch flags {
	case 0, 3:
		return mp.ring.prod, nil
	case 1:
		return uint64(len(mp.slab)), nil
	}
	return 0, nil
}
