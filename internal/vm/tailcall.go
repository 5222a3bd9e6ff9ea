package vm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/bpfarena/bpfarena/object"
)

// maxTailCalls is the kernel's MAX_TAIL_CALL_CNT: the tail calls one run
// may make, counted over the whole chain.
const maxTailCalls = 33

// errTailCalled tells the interpreter that bpf_tail_call ran another
// program in the calling frame's place: the helper's result is that
// program's r0, and the frame ends with it.
var errTailCalled = errors.New("tail call")

// bpfTailCall is bpf_tail_call(ctx, prog_array, index). An index past
// max_entries, an empty slot, or a run that has made maxTailCalls tail
// calls already falls through: the helper returns and the program goes on
// with the next instruction. Only tail calls that happen count (6.12 and
// 7.3 on x86-64 agree).
func bpfTailCall(m *machine, ctx, h, index, _, _ uint64, depth int) (uint64, error) {
	mp, err := m.mapArg(h)
	if err != nil {
		return 0, err
	}
	if mp.typ != object.ProgArray {
		return 0, fmt.Errorf("bpf_tail_call: map %s is a %v, not a program array", mp.name, mp.typ)
	}
	i := uint32(index)
	if i >= mp.max {
		return 0, nil
	}
	target := mp.progs[i]
	if target == nil || m.tailCalls >= maxTailCalls {
		return 0, nil
	}
	m.tailCalls++
	// The target runs in the caller's frame, which it replaces: same
	// depth, same stack slot, the context as its only argument.
	caller := m.p
	m.p = target
	v, err := m.call(0, ctx, 0, 0, 0, 0, depth)
	m.p = caller
	if err != nil {
		return 0, err
	}
	return v, errTailCalled
}

// fillSlots puts the static initial entries of program arrays and
// map-in-maps in place, once every map exists and every program is
// compiled, checking them as the kernel's map updates would.
func (c *Collection) fillSlots() error {
	for _, m := range c.maps {
		if m == nil || len(m.spec.Slots) == 0 {
			continue
		}
		switch m.typ {
		case object.ProgArray:
			m.progs = make([]*program, m.max)
			var owner *object.ProgramSpec
			for _, s := range m.spec.Slots {
				p, ok := c.progs[s.Name]
				if !ok {
					return fmt.Errorf("map %s: values[%d]: program %s is not loaded: %w", m.name, s.Key, s.Name, errNoEnt)
				}
				if owner == nil {
					owner = p.p.spec
				} else if p.p.spec.Type != owner.Type {
					return fmt.Errorf("map %s: values[%d]: program %s is of type %v, %s of %v: %w",
						m.name, s.Key, s.Name, p.p.spec.Type, owner.Name, owner.Type, errInval)
				}
				m.progs[s.Key] = p.p
			}
		case object.ArrayOfMaps, object.HashOfMaps:
			for _, s := range m.spec.Slots {
				i, ok := c.byName[s.Name]
				if !ok || c.maps[i] == nil {
					return fmt.Errorf("map %s: values[%d]: map %s cannot be an inner map: %w", m.name, s.Key, s.Name, errInval)
				}
				if err := innerMatches(m.spec.InnerMap, c.maps[i].spec); err != nil {
					return fmt.Errorf("map %s: values[%d] = %s: %w", m.name, s.Key, s.Name, err)
				}
				key := binary.LittleEndian.AppendUint32(nil, s.Key)
				val := binary.LittleEndian.AppendUint32(nil, uint32(i)+1)
				if e := m.update(key, val, flagAny, 0, false); e != 0 {
					return fmt.Errorf("map %s: values[%d] = %s: %w", m.name, s.Key, s.Name, e)
				}
			}
		}
	}
	return nil
}

// innerMatches is the kernel's check that a map may go into a map-in-map
// built from the template (bpf_map_meta_equal): same type, key and value
// size and flags, and max_entries unless the template has
// BPF_F_INNER_MAP.
func innerMatches(tmpl, m *object.MapSpec) error {
	const innerMapFlag = 1 << 12 // BPF_F_INNER_MAP
	switch {
	case m.Type != tmpl.Type, m.KeySize != tmpl.KeySize, m.ValueSize != tmpl.ValueSize,
		m.Flags&^innerMapFlag != tmpl.Flags&^innerMapFlag,
		tmpl.Flags&innerMapFlag == 0 && m.MaxEntries != tmpl.MaxEntries:
		return fmt.Errorf("%v key %d value %d max_entries %d flags %#x does not match the inner map definition %v key %d value %d max_entries %d flags %#x: %w",
			m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags,
			tmpl.Type, tmpl.KeySize, tmpl.ValueSize, tmpl.MaxEntries, tmpl.Flags, errInval)
	}
	if m.Type == object.ProgArray || m.Type == object.ArrayOfMaps || m.Type == object.HashOfMaps || m.IsArena() {
		return fmt.Errorf("a %v cannot be an inner map: %w", m.Type, errInval)
	}
	return nil
}
