package asm

import "sort"

// Offsets returns the slot number of each instruction: jump and call
// targets count in slots, and ld_imm64 takes two.
func (insns Instructions) Offsets() []int {
	offs := make([]int, len(insns))
	slot := 0
	for i, ins := range insns {
		offs[i] = slot
		slot += ins.Slots()
	}
	return offs
}

// SlotCount is the number of 8-byte slots insns occupies.
func (insns Instructions) SlotCount() int {
	n := 0
	for _, ins := range insns {
		n += ins.Slots()
	}
	return n
}

// IndexOfSlot returns the index of the instruction that starts at slot, given
// the result of Offsets. ok is false when slot is out of range or falls on
// the second half of an ld_imm64.
func IndexOfSlot(offsets []int, slot int) (index int, ok bool) {
	i := sort.SearchInts(offsets, slot)
	if i < len(offsets) && offsets[i] == slot {
		return i, true
	}
	return 0, false
}

// Target returns the index of the instruction that the jump, subprogram
// call or pseudo func ld_imm64 at index i refers to, given the result of
// Offsets. ok is false if insns[i] has no target or the target is not the
// start of an instruction.
func (insns Instructions) Target(offsets []int, i int) (index int, ok bool) {
	if i < 0 || i >= len(insns) || len(offsets) != len(insns) {
		return 0, false
	}
	rel, ok := insns[i].JumpTarget()
	if !ok {
		return 0, false
	}
	// Every target counts from the slot after the instruction's first one,
	// the two-slot pseudo func ld_imm64 included, as the kernel counts.
	return IndexOfSlot(offsets, offsets[i]+1+rel)
}
