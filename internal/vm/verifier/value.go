package verifier

import (
	"github.com/bpfarena/bpfarena/object"
)

// kinds is a set of register types. A value usually has one kind; it has
// several after two paths that disagree meet at a join point, and the checks
// then treat it as "any of these" (an access is accepted only if it would be
// accepted for each of them).
type kinds uint16

const (
	kNotInit    kinds = 1 << iota // never written (reading it is an error)
	kScalar                       // a number
	kCtx                          // the program's context
	kStack                        // a frame's stack (frame, offset)
	kMapPtr                       // const_ptr_to_map: a map itself (ld_imm64 map fd)
	kMapValue                     // inside a map value (global data, lookup result)
	kArena                        // arena pointer: result of addr_space_cast(r, 0, 1)
	kPacket                       // packet data
	kPacketEnd                    // packet end (only compared, never dereferenced)
	kPacketMeta                   // packet metadata
	kMem                          // memory handed out by a helper or kfunc
	kFunc                         // address of a subprogram (callbacks)
	kBTFID                        // kernel object (ksym); the vm has none to offer
)

// pointerKinds are the kinds that hold an address.
const pointerKinds = kCtx | kStack | kMapPtr | kMapValue | kArena | kPacket | kPacketEnd | kPacketMeta | kMem | kFunc | kBTFID

// value is the abstract content of a register or spilled stack slot.
type value struct {
	k    kinds
	null bool // the pointer may be NULL (map_value_or_null and the like)
	// wide: the scalar component may be any 64-bit number, the kernel's
	// "unbounded min value" (a full-width load, a helper's result...),
	// which no pointer may be offset by. Set only where the kernel's
	// bounds are certainly that wide; any comparison clears it.
	wide  bool
	known bool // the scalar component is the constant v
	// bits: a number that is not known but fits in its low bits bits
	// (8, 16 or 32): a narrow load, a 32-bit result. The kernel knows
	// that much too, and decides comparisons with it; 0 when unbounded.
	bits  uint8
	offOK bool // the pointer offset off is known
	frame int8 // kStack: index of the frame whose stack it points into, -1 unknown
	v     uint64
	off   int64
	mp    *object.MapSpec // kMapPtr, kMapValue: the map, when known
	size  int64           // kMapValue, kMem: bytes accessible from offset 0, 0 if unknown
	id    uint32          // identifies an _or_null pointer so that copies are checked together
	fn    int32           // kFunc: instruction index of the subprogram
}

// Value constructors: an unset register, a number, a known number.
func notInit() value             { return value{k: kNotInit} }
func unknownScalar() value       { return value{k: kScalar} }
func constScalar(c uint64) value { return value{k: kScalar, known: true, v: c} }

// Predicates on the kinds of a value: is (exactly k), has (k among
// them), single (one kind only), and on its number.
func (v value) is(k kinds) bool     { return v.k == k }
func (v value) has(k kinds) bool    { return v.k&k != 0 }
func (v value) isConst() bool       { return v.k == kScalar && v.known }
func (v value) single() bool        { return v.k != 0 && v.k&(v.k-1) == 0 }
func (v value) isZero() bool        { return v.isConst() && v.v == 0 }
func (v value) arenaOrScalar() bool { return v.k&^(kArena|kScalar) == 0 && v.k != 0 }

// typeName is the name the kernel's log gives a register type.
func (v value) typeName() string {
	if v.has(kNotInit) {
		return "?"
	}
	if v.has(kScalar) {
		return "scalar"
	}
	name := ""
	switch {
	case v.has(kCtx):
		name = "ctx"
	case v.has(kStack):
		name = "fp"
	case v.has(kMapPtr):
		name = "map_ptr"
	case v.has(kMapValue):
		name = "map_value"
	case v.has(kArena):
		name = "arena"
	case v.has(kPacket):
		name = "pkt"
	case v.has(kPacketEnd):
		name = "pkt_end"
	case v.has(kPacketMeta):
		name = "pkt_meta"
	case v.has(kMem):
		name = "mem"
	case v.has(kFunc):
		name = "func"
	case v.has(kBTFID):
		name = "ptr_"
	}
	if v.null {
		name += "_or_null"
	}
	return name
}

// join is the least upper bound of a and b. Details that differ are
// forgotten (constants become unknown), which also serves as widening:
// a value can only lose information a bounded number of times.
func join(a, b value) value {
	if a == b {
		return a
	}
	r := value{k: a.k | b.k, null: a.null || b.null, frame: a.frame}
	r.wide = a.wide || b.wide
	if a.has(kScalar) && b.has(kScalar) {
		r.known = a.known && b.known && a.v == b.v
		r.v = a.v
		if !r.known {
			r.v = 0
			if a.is(kScalar) && b.is(kScalar) {
				if ab, bb := a.width(), b.width(); ab != 0 && bb != 0 {
					r.bits = max(ab, bb)
				}
			}
		}
	} else if a.has(kScalar) {
		r.known, r.v = a.known, a.v
	} else if b.has(kScalar) {
		r.known, r.v = b.known, b.v
	}
	ap, bp := a.k&pointerKinds != 0, b.k&pointerKinds != 0
	switch {
	case ap && bp:
		r.offOK = a.offOK && b.offOK && a.off == b.off
		if r.offOK {
			r.off = a.off
		}
		if a.mp == b.mp {
			r.mp = a.mp
		}
		if a.size == b.size {
			r.size = a.size
		}
		if a.frame != b.frame {
			r.frame = -1
		}
		if a.id == b.id {
			r.id = a.id
		}
		if a.fn == b.fn {
			r.fn = a.fn
		}
	case ap:
		r.offOK, r.off, r.mp, r.size, r.frame, r.id, r.fn = a.offOK, a.off, a.mp, a.size, a.frame, a.id, a.fn
	case bp:
		r.offOK, r.off, r.mp, r.size, r.frame, r.id, r.fn = b.offOK, b.off, b.mp, b.size, b.frame, b.id, b.fn
	}
	return r
}

// covers reports whether a describes every value b describes, so that a
// state holding a needs no second look at b.
func covers(a, b value) bool {
	if a == b {
		return true
	}
	if b.k&^a.k != 0 {
		return false
	}
	if b.null && !a.null || b.wide && !a.wide {
		return false
	}
	if a.has(kScalar) && b.has(kScalar) && a.known && !(b.known && a.v == b.v) {
		return false
	}
	if a.has(kScalar) && b.has(kScalar) && !a.known && a.bits != 0 {
		if bb := b.width(); !b.is(kScalar) || bb == 0 || bb > a.bits {
			return false
		}
	}
	if b.k&pointerKinds != 0 {
		if a.offOK && !(b.offOK && a.off == b.off) {
			return false
		}
		if a.mp != nil && a.mp != b.mp {
			return false
		}
		if a.size != 0 && a.size != b.size {
			return false
		}
		if a.frame != -1 && a.frame != b.frame {
			return false
		}
		if a.id != 0 && a.id != b.id {
			return false
		}
		if a.fn != b.fn && b.has(kFunc) {
			return false
		}
	}
	return true
}

// width is how many low bits a pure number is known to fit in (8, 16 or
// 32), 0 if it may need all 64.
func (v value) width() uint8 {
	switch {
	case !v.is(kScalar):
		return 0
	case !v.known:
		return v.bits
	case v.v <= 0xff:
		return 8
	case v.v <= 0xffff:
		return 16
	case v.v <= 0xffffffff:
		return 32
	}
	return 0
}

// urange is the unsigned range of a pure number, if it has one narrower
// than 64 bits or is known.
func (v value) urange() (lo, hi uint64, ok bool) {
	switch {
	case !v.is(kScalar):
		return 0, 0, false
	case v.known:
		return v.v, v.v, true
	case v.bits != 0:
		return 0, 1<<v.bits - 1, true
	}
	return 0, 0, false
}
