package vm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

func u32b(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64b(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// mapProg loads one program with one map; ld_imm64 with src 1 refers to it.
func mapProg(t *testing.T, ms *object.MapSpec, insns []asm.Instruction) *Collection {
	t.Helper()
	ps := progSpec("p", insns)
	for i, in := range insns {
		if in.OpCode == 0x18 && in.Src == asm.PseudoMapFD {
			ps.Relocations[i] = object.Relocation{Kind: object.RelocMap, Map: ms}
		}
		if in.OpCode == 0x18 && in.Src == asm.PseudoMapValue {
			ps.Relocations[i] = object.Relocation{Kind: object.RelocMapValue, Map: ms, Offset: uint32(uint64(in.Constant) >> 32)}
		}
	}
	return mustLoad(t, &object.Spec{Maps: []*object.MapSpec{ms}, Programs: []*object.ProgramSpec{ps}})
}

// counterProg: key = *(u32 *)ctx; v = lookup(key); if !v { update(key, 1) ; return 1 }
// else *v += 1 (atomic); return *v.
var counterProg = []asm.Instruction{
	ldx(bpfW, 6, 1, 0), stx(bpfW, 10, 6, -4), // key on the stack
	ldMap(1), mov64X(2, 10), alu64K(bpfAdd, 2, -4), call(helperMapLookup),
	jmpK(bpfJne, 0, 0, 11),
	st(bpfDW, 10, -16, 1),
	ldMap(1), mov64X(2, 10), alu64K(bpfAdd, 2, -4), mov64X(3, 10), alu64K(bpfAdd, 3, -16), mov64K(4, 0), call(helperMapUpdate),
	mov64K(0, 1), exit(),
	mov64K(1, 1), atomicOp(bpfDW, 0, 1, 0, atomicAdd), ldx(bpfDW, 0, 0, 0), exit(),
}

func TestMaps(t *testing.T) {
	for _, typ := range []object.MapType{object.Hash, object.Array, object.PerCPUArray, object.PerCPUHash, object.LRUHash} {
		t.Run(typeName(typ), func(t *testing.T) {
			ms := &object.MapSpec{Name: "m", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 4}
			c := mapProg(t, ms, counterProg)
			p, _ := c.Program("p")
			for i, want := range []uint32{1, 2, 3} {
				res, err := p.Run(engine.RunOptions{Context: u32b(2)})
				if err != nil {
					t.Fatal(err)
				}
				if res.Retval != want {
					t.Fatalf("run %d: %d, want %d", i, res.Retval, want)
				}
			}
			m, _ := c.Map("m")
			v, err := m.Lookup(u32b(2))
			if err != nil {
				t.Fatal(err)
			}
			if got := binary.LittleEndian.Uint64(v); got < 3 {
				t.Fatalf("Go lookup = %d", got)
			}
			if ms.Type == object.PerCPUArray || ms.Type == object.PerCPUHash {
				if len(v) != 8*numCPU {
					t.Fatalf("per-CPU value of %d bytes", len(v))
				}
			}
		})
	}
}

func typeName(t object.MapType) string {
	return map[object.MapType]string{object.Hash: "hash", object.Array: "array", object.PerCPUArray: "percpu_array",
		object.PerCPUHash: "percpu_hash", object.LRUHash: "lru_hash"}[t]
}

func TestMapRules(t *testing.T) {
	h := &Map{m: mustMap(t, &object.MapSpec{Name: "h", Type: object.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 2})}
	a := &Map{m: mustMap(t, &object.MapSpec{Name: "a", Type: object.Array, KeySize: 4, ValueSize: 4, MaxEntries: 2})}
	l := &Map{m: mustMap(t, &object.MapSpec{Name: "l", Type: object.LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 2})}
	steps := []struct {
		name string
		op   func() error
		want error
	}{
		{"hash insert", func() error { return h.Update(u32b(1), u32b(10), flagNoExist) }, nil},
		{"hash noexist on existing", func() error { return h.Update(u32b(1), u32b(10), flagNoExist) }, syscall.EEXIST},
		{"hash exist on missing", func() error { return h.Update(u32b(2), u32b(10), flagExist) }, syscall.ENOENT},
		{"hash fill", func() error { return h.Update(u32b(2), u32b(20), flagAny) }, nil},
		{"hash full", func() error { return h.Update(u32b(3), u32b(30), flagAny) }, syscall.E2BIG},
		{"hash delete", func() error { return h.Delete(u32b(1)) }, nil},
		{"hash delete missing", func() error { return h.Delete(u32b(1)) }, syscall.ENOENT},
		{"hash lookup missing", func() error { _, err := h.Lookup(u32b(1)); return err }, syscall.ENOENT},
		{"hash reuse slot", func() error { return h.Update(u32b(3), u32b(30), flagAny) }, nil},
		{"bad flags", func() error { return h.Update(u32b(3), u32b(30), 4) }, syscall.EINVAL},
		{"array out of range", func() error { return a.Update(u32b(2), u32b(1), 0) }, syscall.E2BIG},
		{"array noexist", func() error { return a.Update(u32b(0), u32b(1), flagNoExist) }, syscall.EEXIST},
		{"array delete", func() error { return a.Delete(u32b(0)) }, syscall.EINVAL},
		{"key size", func() error { return a.Update(u64b(0), u32b(1), 0) }, syscall.EINVAL},
		{"lru 1", func() error { return l.Update(u32b(1), u32b(1), 0) }, nil},
		{"lru 2", func() error { return l.Update(u32b(2), u32b(2), 0) }, nil},
		{"lru touch 1", func() error { _, err := l.Lookup(u32b(1)); return err }, nil},
		{"lru evicts 2", func() error { return l.Update(u32b(3), u32b(3), 0) }, nil},
		{"lru 2 gone", func() error { _, err := l.Lookup(u32b(2)); return err }, syscall.ENOENT},
		{"lru 1 kept", func() error { _, err := l.Lookup(u32b(1)); return err }, nil},
	}
	for _, s := range steps {
		if err := s.op(); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	v, _ := h.Lookup(u32b(3))
	if !bytes.Equal(v, u32b(30)) {
		t.Errorf("reused slot value = %v", v)
	}
}

func mustMap(t *testing.T, ms *object.MapSpec) *vmMap {
	m, err := newMap(ms, mapHandleBase)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGlobalData(t *testing.T) {
	ro := &object.MapSpec{Name: ".rodata", Section: ".rodata", Type: object.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1,
		Contents: u64b(5), ReadOnly: true}
	c := mapProg(t, ro, []asm.Instruction{raw(0x18, 1, uint8(asm.PseudoMapValue), 0, 0), ldx(bpfDW, 0, 1, 0), exit()})
	res, err := c.progs["p"].Run(engine.RunOptions{})
	if err != nil || res.Retval != 5 {
		t.Fatalf("rodata read: %d %v", res.Retval, err)
	}
	data, ok := c.Data(ro)
	if !ok || len(data) != 8 {
		t.Fatal("Data")
	}
	c = mapProg(t, ro, []asm.Instruction{raw(0x18, 1, uint8(asm.PseudoMapValue), 0, 0), st(bpfDW, 1, 0, 1), exit()})
	if _, err := c.progs["p"].Run(engine.RunOptions{}); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("rodata write: %v", err)
	}
	bss := &object.MapSpec{Name: ".bss", Section: ".bss", Type: object.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1}
	c = mapProg(t, bss, []asm.Instruction{raw(0x18, 1, uint8(asm.PseudoMapValue), 0, 8<<32), st(bpfDW, 1, 0, 77), mov64K(0, 0), exit()})
	if _, err := c.progs["p"].Run(engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	data, _ = c.Data(bss)
	if binary.LittleEndian.Uint64(data[8:]) != 77 {
		t.Fatalf(".bss = %v", data)
	}
}

func TestTracePrintk(t *testing.T) {
	// "v=%d %s|%5u|%llx\n" with args -3, "ab", 42... (three args max).
	msg := []byte("%d:%u:%x\n\x00")
	var insns []asm.Instruction
	for len(msg)%8 != 0 {
		msg = append(msg, 0)
	}
	for i := 0; i < len(msg); i += 8 {
		insns = append(insns, ldImm64(1, binary.LittleEndian.Uint64(msg[i:])), stx(bpfDW, 10, 1, int16(-len(msg)+i)))
	}
	insns = append(insns, mov64X(1, 10), alu64K(bpfAdd, 1, int64(-len(msg))), mov64K(2, int64(len(msg))),
		mov64K(3, -3), mov64K(4, -1), mov64K(5, 255), call(helperTracePrintk), exit())
	c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{progSpec("p", insns)}})
	res, err := c.progs["p"].Run(engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "-3:4294967295:ff\n" {
		t.Fatalf("output %q", res.Output)
	}
}

func TestIterNum(t *testing.T) {
	// sum of i for i in [2, 6) with bpf_iter_num: 2+3+4+5 = 14.
	ps := progSpec("p", []asm.Instruction{
		mov64X(1, 10), alu64K(bpfAdd, 1, -8), mov64K(2, 2), mov64K(3, 6), kcall(), // 0-4
		mov64K(6, 0),                                  // 5
		mov64X(1, 10), alu64K(bpfAdd, 1, -8), kcall(), // 6-8 next
		jmpK(bpfJeq, 0, 0, 3),                            // 9
		ldx(bpfW, 1, 0, 0), alu64X(bpfAdd, 6, 1), ja(-7), // 10-12
		mov64X(1, 10), alu64K(bpfAdd, 1, -8), kcall(), // 13-15 destroy
		mov64X(0, 6), exit(),
	})
	for i, n := range map[int]string{4: "bpf_iter_num_new", 8: "bpf_iter_num_next", 15: "bpf_iter_num_destroy"} {
		ps.Relocations[i] = object.Relocation{Kind: object.RelocKfunc, Extern: &object.ExternSpec{Name: n, Kind: object.ExternKfunc}}
	}
	c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{ps}})
	res, err := c.progs["p"].Run(engine.RunOptions{})
	if err != nil || res.Retval != 14 {
		t.Fatalf("retval %d, %v", res.Retval, err)
	}
}

func TestPacketPrograms(t *testing.T) {
	// return data_end - data + first byte of the packet.
	prog := func(dataOff, endOff int16) []asm.Instruction {
		return []asm.Instruction{
			ldx(bpfW, 2, 1, dataOff), ldx(bpfW, 3, 1, endOff),
			mov64X(0, 3), alu64X(bpfSub, 0, 2),
			ldx(bpfB, 4, 2, 0), alu64X(bpfAdd, 0, 4),
			st(bpfB, 2, 1, 0x55), // the packet is writable
			exit(),
		}
	}
	pkt := make([]byte, 64)
	pkt[0] = 7
	pkt[12], pkt[13] = 0x08, 0x00
	tests := []struct {
		name    string
		typ     object.ProgramType
		insns   []asm.Instruction
		want    uint32
		wantOut byte
	}{
		{"xdp", object.XDP, prog(xdpData, xdpDataEnd), 64 + 7, 0x55},
		{"tc", object.SchedCLS, prog(skbData, skbDataEnd), 64 + 7, 0x55},
		{"socket filter skips the Ethernet header", object.SocketFilter, prog(skbData, skbDataEnd), 50, 0},
		{"skb len and protocol", object.SchedCLS, []asm.Instruction{ldx(bpfW, 0, 1, skbLen), ldx(bpfW, 2, 1, skbProtocol), alu64K(bpfLsh, 2, 16), alu64X(bpfOr, 0, 2), exit()}, 64 | 0x0008<<16, 0},
		{"read past data_end is an error", object.XDP, []asm.Instruction{ldx(bpfW, 2, 1, xdpDataEnd), ldx(bpfB, 0, 2, 0), exit()}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := progSpec("p", tt.insns)
			ps.Type = tt.typ
			c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{ps}})
			res, err := c.progs["p"].Run(engine.RunOptions{Data: pkt})
			if tt.want == 0 {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Retval != tt.want {
				t.Errorf("retval %d, want %d", res.Retval, tt.want)
			}
			if len(res.DataOut) != 64 || (tt.wantOut != 0 && res.DataOut[1] != tt.wantOut) {
				t.Errorf("data out %v", res.DataOut[:4])
			}
		})
	}
	ps := progSpec("p", prog(xdpData, xdpDataEnd))
	ps.Type = object.XDP
	c := mustLoad(t, &object.Spec{Programs: []*object.ProgramSpec{ps}})
	if _, err := c.progs["p"].Run(engine.RunOptions{Data: make([]byte, 4)}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("short packet: %v", err)
	}
}

func TestFaultLines(t *testing.T) {
	c := arenaProg(t, 1, 0, []asm.Instruction{mov64K(0, 0), exit()})
	start := c.arena.start
	c.Close()
	c = arenaProgAt(t, start, []asm.Instruction{ldImm64(1, uint64(uint32(start))+0x10), mov64K(0, 0), ldx(bpfW, 0, 1, 4), exit()}, 2)
	c.progs["p"].p.lines = []object.Line{{Index: 0, File: "/src/prog.c", Line: 30}, {Index: 2, File: "/src/prog.c", Line: 31}}
	res, err := c.progs["p"].Run(engine.RunOptions{Repeat: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Fault{Program: "p", Kind: engine.FaultRead, Address: start + 0x14, Insn: 3, Line: "prog.c:31"}
	if len(res.Faults) != 2 || res.Faults[0] != want {
		t.Fatalf("faults %+v, want 2 x %+v", res.Faults, want)
	}
}

func TestRingBuf(t *testing.T) {
	rb := &object.MapSpec{Name: "rb", Type: object.RingBuf, MaxEntries: 4096}
	c := mapProg(t, rb, []asm.Instruction{
		ldMap(1), mov64K(2, 16), mov64K(3, 0), call(helperRingReserve), // 0-3
		jmpK(bpfJeq, 0, 0, 4),                                                   // 4: NULL -> 9
		st(bpfDW, 0, 0, 42), mov64X(1, 0), mov64K(2, 0), call(helperRingSubmit), // 5-8
		st(bpfDW, 10, -8, 7), ldMap(1), mov64X(2, 10), alu64K(bpfAdd, 2, -8), mov64K(3, 8), mov64K(4, 0), call(helperRingOutput), // 9-15
		mov64X(6, 0),
		ldMap(1), mov64K(2, 3), call(helperRingQuery), // prod position
		alu64K(bpfLsh, 6, 32), alu64X(bpfOr, 0, 6), exit(),
	})
	p := c.progs["p"]
	res, err := p.Run(engine.RunOptions{})
	if err != nil || res.Retval != 40 {
		t.Fatalf("retval %d, %v; want 40 (24 + 16 bytes produced)", res.Retval, err)
	}
	// Nobody consumes: the ring fills up and output fails with -EAGAIN.
	var last uint64
	for i := 0; i < 200; i++ {
		r0, _, err := run64(c, "p")
		if err != nil {
			t.Fatal(err)
		}
		last = r0
	}
	if int32(last>>32) != -int32(syscall.EAGAIN) || uint32(last) != 4096 {
		t.Fatalf("full ring: output %d, prod %d", int32(last>>32), uint32(last))
	}
	m, _ := c.Map("rb")
	if _, err := m.Lookup(nil); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Fatalf("lookup on a ring buffer: %v", err)
	}
}
