package verifier

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

type accType uint8

const (
	accRead accType = iota
	accWrite
	accAtomic // read and write
)

// Context layouts: where the packet pointers are in the ctx of the
// program types that have them.
const (
	xdpData, xdpDataEnd, xdpDataMeta = 0, 4, 8
	skbData, skbDataEnd, skbDataMeta = 76, 80, 140
)

// markAccess records what instruction pc reaches. An instruction must
// reach arena memory on every path or on none: the interpreter (like the
// kernel's JIT) decides once per instruction how to address it.
func (v *verifier) markAccess(pc int, arena bool) error {
	bit, acc := seenOther, AccessOther
	if arena {
		bit, acc = seenArena, AccessArena
	}
	v.seen[pc] |= bit
	if v.seen[pc] == seenArena|seenOther {
		return v.fail(pc, syscall.EINVAL, "same insn cannot be used with different pointers")
	}
	v.access[pc] = acc
	return nil
}

// mem checks an access of size bytes at base+off through register r and
// returns the value a read gives. src is what a write stores.
func (v *verifier) mem(pc int, st *state, r asm.Register, base value, off int16, size int, at accType, src value) (value, error) {
	if base.has(kScalar) {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d invalid mem access 'scalar'", r))
	}
	if base.has(kArena) {
		if base.k != kArena {
			return value{}, v.fail(pc, syscall.EINVAL, "same insn cannot be used with different pointers")
		}
		return v.loaded(size), v.markAccess(pc, true)
	}
	if err := v.markAccess(pc, false); err != nil {
		return value{}, err
	}
	if base.null {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d invalid mem access '%s'", r, base.typeName()))
	}
	if !base.single() {
		// Several kinds of memory: left to the run-time checks. A stack
		// among them may be written anywhere.
		if base.has(kStack) && at != accRead {
			for _, f := range st.frames {
				clobberStack(f)
			}
		}
		return v.loaded(size), nil
	}
	switch base.k {
	case kStack:
		return v.stackAccess(pc, st, r, base, off, size, at, src)
	case kCtx:
		return v.ctxAccess(pc, r, base, off, size, at)
	case kMapValue:
		return v.mapValueAccess(pc, r, base, off, size, at)
	case kMem:
		if base.offOK && base.size > 0 {
			o := base.off + int64(off)
			if o < 0 || o+int64(size) > base.size {
				return value{}, v.failRange(pc, r, fmt.Sprintf("invalid access to memory, mem_size=%d off=%d size=%d", base.size, o, size))
			}
		}
		return v.loaded(size), nil
	case kMapPtr:
		if base.mp != nil && base.offOK && v.env.MapStruct != nil {
			if t := v.env.MapStruct(base.mp); t != nil {
				return v.mapPtrAccess(pc, r, t, base.off+int64(off), size, at)
			}
		}
	case kPacket, kPacketMeta:
		if base.k == kPacket && base.offOK {
			o := base.off + int64(off)
			if o < 0 || o+int64(size) > st.pkt {
				msg := fmt.Sprintf("invalid access to packet, off=%d size=%d, R%d(id=0,off=%d,r=%d)", o, size, r, o, st.pkt)
				v.log.WriteString(msg + "\n")
				e := v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d offset is outside of the packet", r))
				e.Msg = msg
				return value{}, e
			}
		}
		if at == accAtomic {
			return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("BPF_ATOMIC stores into R%d %s is not allowed", r, base.typeName()))
		}
		return v.loaded(size), nil
	}
	return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d invalid mem access '%s'", r, base.typeName()))
}

// failRange rejects an access outside a map value or memory region: the
// kernel logs what is wrong, then which bound of the register it was
// (this pass only knows constant offsets: the minimum).
func (v *verifier) failRange(pc int, r asm.Register, msg string) *Error {
	v.log.WriteString(msg + "\n")
	e := v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d min value is outside of the allowed memory range", r))
	e.Msg = msg
	return e
}

// clobberStack forgets what a frame's stack holds (a write at an unknown
// offset may have hit any slot).
func clobberStack(f *frame) {
	for j := 0; j < f.nslots(); j++ {
		s := f.slotMut(j)
		for i := range s.b {
			s.b[i] = byteMisc
		}
		s.v = value{}
	}
}

// stackAccess checks an access to a frame's stack and follows what it
// holds: spilled registers (arena pointers included) and data bytes.
func (v *verifier) stackAccess(pc int, st *state, r asm.Register, base value, off int16, size int, at accType, src value) (value, error) {
	fi := int(base.frame)
	if fi < 0 || fi >= len(st.frames) || !base.offOK {
		// Unknown frame or offset: the run-time checks keep it inside
		// the stack; any slot may change.
		if at != accRead {
			for _, f := range st.frames {
				clobberStack(f)
			}
		}
		return v.loaded(size), nil
	}
	f := st.frames[fi]
	o := base.off + int64(off)
	if err := v.stackBounds(pc, r, o, size, at, false); err != nil {
		return value{}, err
	}
	if o%int64(size) != 0 {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("misaligned stack access off 0+%d+%d size %d", base.off, off, size))
	}
	v.useStack(f, o)
	sv := f.slotRead(o)
	s := &sv
	if at != accRead {
		s = f.slotAt(o)
	}
	bi := byteIndex(o)
	var res value
	if at != accWrite {
		switch {
		case s.spilled() && size == 8:
			res = s.v
		case s.spilled() && s.v.k != kScalar && at == accRead:
			return value{}, v.fail(pc, syscall.EACCES, "invalid size of register fill")
		default:
			zero := true
			for i := 0; i < size; i++ {
				b := s.b[bi+i]
				if b == byteInvalid && v.env.StrictStack {
					return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("invalid read from stack off %d+%d size %d", o, i, size))
				}
				if !(b == byteZero || b == byteSpill && s.v.isZero()) {
					zero = false
				}
			}
			res = v.loaded(size)
			if zero {
				res = constScalar(0)
			}
		}
	}
	if at == accRead {
		return res, nil
	}
	if at == accWrite && size == 8 {
		// A full, aligned store spills the register (pointers included).
		s.v = src
		for i := range s.b {
			s.b[i] = byteSpill
		}
		return res, nil
	}
	if s.spilled() {
		// Overwriting part of a spilled register: the rest becomes data.
		for i := range s.b {
			s.b[i] = byteMisc
		}
		s.v = value{}
	}
	nb := byteMisc
	if at == accWrite && src.isZero() {
		nb = byteZero
	}
	for i := 0; i < size; i++ {
		s.b[bi+i] = nb
	}
	return res, nil
}

// ctxAccess checks an access to the context; loads of the packet fields
// of XDP and tc programs give packet pointers.
func (v *verifier) ctxAccess(pc int, r asm.Register, base value, off int16, size int, at accType) (value, error) {
	if !base.offOK {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("variable ctx access var_off=(0x0; 0xffffffffffffffff) disallowed"))
	}
	if base.off != 0 {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("dereference of modified ctx ptr R%d off=%d disallowed", r, base.off))
	}
	if at == accAtomic {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("BPF_ATOMIC stores into R%d ctx is not allowed", r))
	}
	if !v.validCtxAccess(off, size, at) {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("invalid bpf_context access off=%d size=%d", off, size))
	}
	if at != accRead || size != 4 {
		return v.loaded(size), nil
	}
	var data, end, meta int16 = -1, -1, -1
	switch v.prog.Type {
	case object.XDP:
		data, end, meta = xdpData, xdpDataEnd, xdpDataMeta
	case object.SchedCLS, object.SchedACT:
		data, end, meta = skbData, skbDataEnd, skbDataMeta
	}
	switch off {
	case data:
		return value{k: kPacket, offOK: true}, nil
	case end:
		return value{k: kPacketEnd, offOK: true}, nil
	case meta:
		return value{k: kPacketMeta, offOK: true}, nil
	}
	return unknownScalar(), nil
}

// mapValueAccess checks an access inside a map value at a known offset.
func (v *verifier) mapValueAccess(pc int, r asm.Register, base value, off int16, size int, at accType) (value, error) {
	m := base.mp
	if !base.offOK || base.size <= 0 {
		return v.loaded(size), nil
	}
	o := base.off + int64(off)
	if o < 0 || o+int64(size) > base.size {
		return value{}, v.failRange(pc, r, fmt.Sprintf("invalid access to map value, value_size=%d off=%d size=%d", base.size, o, size))
	}
	if m != nil && at != accRead && (m.ReadOnly || m.Flags&object.FlagRdonlyProg != 0) {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("write into map forbidden, value_size=%d off=%d size=%d", base.size, o, size))
	}
	// Read-only data is frozen before programs load: its contents are
	// known, and the kernel uses them to drop dead branches.
	contents := []byte(nil)
	if m != nil && m.ReadOnly {
		contents = m.Contents
		if v.env.MapContents != nil {
			// What the loader put there (.kconfig is filled at load).
			contents = v.env.MapContents(m)
		}
	}
	if m != nil && at == accRead && m.ReadOnly && o+int64(size) <= int64(len(contents)) {
		b := contents[o : o+int64(size)]
		switch size {
		case 1:
			return constScalar(uint64(b[0])), nil
		case 2:
			return constScalar(uint64(binary.LittleEndian.Uint16(b))), nil
		case 4:
			return constScalar(uint64(binary.LittleEndian.Uint32(b))), nil
		case 8:
			return constScalar(binary.LittleEndian.Uint64(b)), nil
		}
	}
	return v.loaded(size), nil
}

// store handles ST, STX and the atomics.
func (v *verifier) store(pc int, st *state, ins asm.Instruction) error {
	size := ins.AccessSize()
	if ins.Class() == asm.ClassST {
		base, err := v.reg(pc, st, ins.Dst)
		if err != nil {
			return err
		}
		_, err = v.mem(pc, st, ins.Dst, base, ins.Offset, size, accWrite, constScalar(uint64(ins.Constant)))
		return err
	}
	if !ins.IsAtomic() {
		src, err := v.reg(pc, st, ins.Src)
		if err != nil {
			return err
		}
		base, err := v.reg(pc, st, ins.Dst)
		if err != nil {
			return err
		}
		if size < 8 && !src.is(kScalar) {
			src = unknownScalar()
		} else if size < 8 && src.known {
			src = constScalar(src.v & (1<<(8*size) - 1))
		}
		_, err = v.mem(pc, st, ins.Dst, base, ins.Offset, size, accWrite, src)
		return err
	}
	op := ins.AtomicOp()
	if (op == asm.AtomicLoadAcquire || op == asm.AtomicStoreRelease) && !v.env.Kernel.LoadAcquire {
		// Before load-acquire and store-release (6.15), 8- and 16-bit
		// atomics are unknown opcodes and these imms unknown operations.
		if size < 4 {
			return v.fail(pc, syscall.EINVAL, fmt.Sprintf("unknown opcode %02x", uint8(ins.OpCode)))
		}
		return v.fail(pc, syscall.EINVAL, fmt.Sprintf("BPF_ATOMIC uses invalid atomic opcode %02x", int32(op)))
	}
	switch op {
	case asm.AtomicLoadAcquire:
		base, err := v.reg(pc, st, ins.Src)
		if err != nil {
			return err
		}
		if ins.Dst > asm.R10 {
			return v.fail(pc, syscall.EINVAL, fmt.Sprintf("R%d is invalid", ins.Dst))
		}
		x, err := v.mem(pc, st, ins.Src, base, ins.Offset, size, accRead, value{})
		if err != nil {
			return err
		}
		return v.setReg(pc, st, ins.Dst, x)
	case asm.AtomicStoreRelease:
		src, err := v.reg(pc, st, ins.Src)
		if err != nil {
			return err
		}
		base, err := v.reg(pc, st, ins.Dst)
		if err != nil {
			return err
		}
		_, err = v.mem(pc, st, ins.Dst, base, ins.Offset, size, accWrite, src)
		return err
	}
	if _, err := v.reg(pc, st, ins.Src); err != nil {
		return err
	}
	if op == asm.AtomicCmpXchg {
		if _, err := v.reg(pc, st, asm.R0); err != nil {
			return err
		}
	}
	base, err := v.reg(pc, st, ins.Dst)
	if err != nil {
		return err
	}
	if base.is(kArena) && (op == asm.AtomicAnd|asm.AtomicFetch || op == asm.AtomicOr|asm.AtomicFetch || op == asm.AtomicXor|asm.AtomicFetch) {
		// The x86-64 JIT of 6.18 cannot emit these with arena addressing.
		return v.fail(pc, syscall.EACCES, fmt.Sprintf("BPF_ATOMIC stores into R%d arena is not allowed", ins.Dst))
	}
	if _, err := v.mem(pc, st, ins.Dst, base, ins.Offset, size, accAtomic, unknownScalar()); err != nil {
		return err
	}
	switch {
	case op == asm.AtomicCmpXchg:
		return v.setReg(pc, st, asm.R0, v.loaded(size))
	case op.IsFetch():
		return v.setReg(pc, st, ins.Src, v.loaded(size))
	}
	return nil
}

// struct xdp_md on Linux 6.18: its size, and egress_ifindex, which only
// programs attached to a devmap (BPF_XDP_DEVMAP) may read.
const (
	xdpMDSize        = 24
	xdpEgressIfindex = 20
)

// validCtxAccess applies the context rules of the program types whose
// rules are simple: syscall programs (any aligned offset of the caller's
// buffer) and XDP (aligned 32-bit reads of struct xdp_md). Other types are
// left to the run-time checks.
func (v *verifier) validCtxAccess(off int16, size int, at accType) bool {
	if off < 0 || int(off)%size != 0 {
		return false
	}
	switch v.prog.Type {
	case object.XDP:
		if off == xdpEgressIfindex && v.prog.AttachType != object.AttachXDPDevmap {
			return false
		}
		return at == accRead && off < xdpMDSize && size == 4
	}
	return true
}

// stackBounds checks that size bytes at stack offset o (through register r)
// are inside the frame. The errno is EACCES, except for a helper's access
// above the frame, which 6.18 refuses with EINVAL.
func (v *verifier) stackBounds(pc int, r asm.Register, o int64, size int, at accType, helper bool) error {
	if o >= -maxStack && o+int64(size) <= 0 {
		return nil
	}
	what := " write to"
	if at == accRead {
		what = " read from"
	}
	errno := syscall.EACCES
	if helper && o >= -maxStack {
		errno = syscall.EINVAL
	}
	return v.fail(pc, errno, fmt.Sprintf("invalid%s stack R%d off=%d size=%d", what, r, o, size))
}

// mapStructNames are the kernel structs behind maps, by map type (each
// map type's map_btf_id), where the struct's first member is the struct
// bpf_map. A type not listed, or a struct the target BTF lacks, falls back
// to struct bpf_map itself.
var mapStructNames = map[object.MapType]string{
	1: "bpf_htab", 2: "bpf_array", 3: "bpf_array", 4: "bpf_array", 5: "bpf_htab", 6: "bpf_array",
	7: "bpf_stack_map", 8: "bpf_array", 9: "bpf_htab", 10: "bpf_htab", 11: "lpm_trie",
	12: "bpf_array", 13: "bpf_htab", 14: "bpf_dtab", 15: "bpf_stab", 16: "bpf_cpu_map",
	17: "xsk_map", 18: "bpf_shtab", 20: "reuseport_array", 22: "bpf_queue_stack",
	23: "bpf_queue_stack", 24: "bpf_local_storage_map", 25: "bpf_dtab", 26: "bpf_struct_ops_map",
	27: "bpf_ringbuf_map", 28: "bpf_local_storage_map", 29: "bpf_local_storage_map",
	30: "bpf_bloom_filter", 31: "bpf_ringbuf_map", 32: "bpf_local_storage_map", 33: "bpf_arena",
}

// MapStructName is the kernel struct behind a map of type t ("bpf_map"
// for a type without its own).
func MapStructName(t object.MapType) string {
	if n, ok := mapStructNames[t]; ok {
		return n
	}
	return "bpf_map"
}

// mapPtrAccess checks a read of the kernel's struct behind a map pointer:
// reads only, each within one member of the struct's BTF. A scalar member
// reads as an unknown number. A pointer member is an untrusted kernel
// pointer in the kernel; the vm has no kernel memory behind it, so it reads
// as a number too, which the program cannot dereference.
func (v *verifier) mapPtrAccess(pc int, r asm.Register, t *btf.Struct, off int64, size int, at accType) (value, error) {
	if at != accRead {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("only read from %s is supported", t.Name))
	}
	if off < 0 {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d is %s invalid negative access: off=%d", r, t.Name, off))
	}
	if !withinMember(t, uint64(off), uint64(size)) {
		return value{}, v.fail(pc, syscall.EACCES, fmt.Sprintf("access beyond struct %s at off %d size %d", t.Name, off, size))
	}
	return v.loaded(size), nil
}

// withinMember reports whether [off, off+size) lies inside one scalar,
// pointer or array-element member of t, looking into nested structs and
// unions.
func withinMember(t btf.Type, off, size uint64) bool {
	for depth := 0; depth < 16; depth++ {
		switch u := btf.UnderlyingType(t).(type) {
		case *btf.Struct:
			return withinMembers(u.Members, off, size)
		case *btf.Union:
			return withinMembers(u.Members, off, size)
		case *btf.Array:
			n, err := btf.Sizeof(u.Type)
			if err != nil || n == 0 || off+size > uint64(n)*uint64(u.Nelems) {
				return false
			}
			t, off = u.Type, off%uint64(n)
			if off+size > uint64(n) {
				return false
			}
		default:
			n, err := btf.Sizeof(u)
			return err == nil && off+size <= uint64(n)
		}
	}
	return false
}

func withinMembers(ms []btf.Member, off, size uint64) bool {
	for _, m := range ms {
		if m.BitfieldSize != 0 || m.Offset%8 != 0 {
			continue
		}
		start := uint64(m.Offset / 8)
		n, err := btf.Sizeof(m.Type)
		if err != nil || off < start || off >= start+uint64(n) {
			continue
		}
		if withinMember(m.Type, off-start, size) {
			return true
		}
	}
	return false
}
