package bpfarena

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/bpfarena/bpfarena/asm"
)

var scalarAccess = regexp.MustCompile(`^R(\d+) invalid mem access 'scalar'$`)

// uncastArenaHint explains a rejection clang-19 causes: when it merges
// stores through an __arena pointer into a memset or memcpy (n->left = 0;
// n->right = 0;), the lowered stores use the pointer as user space holds
// it, not the copy cast to the kernel's address space, and the verifier
// sees a store through a scalar. It returns "" for other rejections.
func uncastArenaHint(spec *Spec, program string, slot int, msg string) string {
	m := scalarAccess.FindStringSubmatch(msg)
	if m == nil || spec == nil {
		return ""
	}
	n, _ := strconv.Atoi(m[1])
	reg := asm.Register(n)
	ps := spec.Program(program)
	if ps == nil {
		return ""
	}
	idx, at := -1, 0
	for i, ins := range ps.Instructions {
		if at == slot {
			idx = i
			break
		}
		at += ins.Slots()
	}
	if idx < 0 {
		return ""
	}
	ins := ps.Instructions[idx]
	switch {
	case (ins.IsStore() || ins.IsAtomic()) && ins.Dst == reg:
	case ins.IsLoad() && ins.Src == reg:
	default:
		return ""
	}
	castSlot := at
	for j := idx - 1; j >= 0; j-- {
		c := ps.Instructions[j]
		castSlot -= c.Slots()
		if c.IsAddrSpaceCast() && c.Src == reg && c.Dst != reg {
			if to, from := c.CastAddressSpaces(); to == 0 && from == 1 {
				return fmt.Sprintf("%s holds an __arena pointer as user space sees it: clang cast it for the kernel into %s at insn %d, "+
					"but the access at insn %d goes through %s. clang-19 does this when it merges stores through an __arena pointer "+
					"into a memset or memcpy (n->left = 0; n->right = 0;); write each member with WRITE_ONCE(n->left, NULL) "+
					"or put barrier() between the stores (both in bpfarena.h)", reg, c.Dst, castSlot, slot, reg)
			}
		}
		if c.IsCall() && reg <= asm.R5 {
			return "" // the call set the register
		}
		if c.Dst == reg && !c.IsStore() && !c.IsAtomic() && c.Class() != asm.ClassJMP && c.Class() != asm.ClassJMP32 {
			return "" // the register was set again in between
		}
	}
	return ""
}
