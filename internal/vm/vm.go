// Package vm is the embedded engine: a pure-Go BPF runtime that loads an
// object.Spec and runs its programs with the kernel's arena semantics.
//
// The arena is a real mapping in this process at user_vm_start, so the
// pointers programs store in it are addresses Go can follow. Programs are
// checked by the static pass in package verifier, which says which loads
// and stores reach the arena; those use 32-bit arena addressing with fault
// tolerance, and every other access is bounds-checked at run time against
// the regions a program may touch (its stack, map values, global data, the
// ctx and the packet), so no program can crash the process.
//
// What follows the kernel (Linux 6.18, x86-64) beyond SEMANTICS.md, found
// by differential runs against it:
//   - free pages live in a range tree with the kernel's allocation order:
//     an allocation without an address takes the smallest free range that
//     fits, the most recently changed among equals (not the lowest address);
//   - 64-bit ALU on an arena pointer runs as the 32-bit operation;
//   - an access straddling two pages needs both present;
//   - a faulting atomic leaves every register as it was (a faulting load
//     zeroes its destination), and a successful 32-bit cmpxchg on arena
//     memory keeps r0's upper half;
//   - bpf_arena_alloc_pages gives NULL for a NUMA node that is not online.
//
// Where the vm differs: may_goto allows 8M iterations per function call
// (the kernel's timed may_goto allows about 250 ms instead); a run stops
// with ErrBudget after its instruction budget; pages the kernel would map
// outside the arena after a free whose pointer lies below user_vm_start do
// not exist here (accesses to them fault); conditional jumps the kernel's
// verifier hard-wires because one side is dead (visible only when a faulted
// atomic leaves a register outside the range the verifier assumed) are
// hard-wired where the static pass finds a side dead (Result.LiveEdges),
// which it, tracking constants but not ranges, does less often than the
// kernel.
package vm

import (
	"encoding/binary"
	"fmt"
	"github.com/cilium/ebpf/btf"
	"sync"
	"time"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/kconfig"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/internal/vm/verifier"
	"github.com/bpfarena/bpfarena/object"
)

// verify is the static pass; a variable so tests can annotate hand-built
// programs before the real pass knows about them.
var verify = verifier.Verify

// Collection is a loaded object on the vm engine.
type Collection struct {
	spec        *object.Spec
	maps        []*vmMap // by handle index; nil for the arena
	byName      map[string]int
	bySpec      map[*object.MapSpec]int
	arena       *vmArena
	arenaHandle uint64
	kernel      *kversion.Model
	target      *btf.Spec // the kernel's types, for CO-RE
	progs       map[string]*Program
	budget      uint64
	regions     []region // the maps' memory
	// helpers, when set, replace the helper table: RunRaw's programs
	// call only the helpers their caller gives.
	helpers   map[int32]helperFunc
	pool      sync.Pool
	closeOnce sync.Once
	mu        sync.RWMutex
	closed    bool
	unmaps    []func() // shared map memory of a pinned load
}

var emptyArena = &vmArena{}

func (c *Collection) arenaOrEmpty() *vmArena {
	if c.arena == nil {
		return emptyArena
	}
	return c.arena
}

// Load creates the maps and the arena of spec, verifies and decodes its
// programs.
func Load(spec *object.Spec, opts engine.Options) (engine.Collection, error) {
	return load(spec, opts)
}

func load(spec *object.Spec, opts engine.Options) (*Collection, error) {
	c := &Collection{
		spec:   spec,
		byName: map[string]int{},
		bySpec: map[*object.MapSpec]int{},
		progs:  map[string]*Program{},
		budget: opts.InsnBudget,
		kernel: opts.Kernel,
	}
	if c.kernel == nil {
		c.kernel = kversion.Default()
	}
	if c.budget == 0 {
		c.budget = DefaultInsnBudget
	}
	var pin *pinDir
	if opts.PinPath != "" {
		for _, ms := range spec.Maps {
			if !pinnable(ms) {
				return nil, fmt.Errorf("map %s: a %v cannot be pinned on the vm engine (only the arena, arrays and global data): %w",
					ms.Name, ms.Type, engine.ErrNotSupported)
			}
		}
		var err error
		if pin, err = openPin(opts.PinPath, spec); err != nil {
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok {
			c.Close()
			if pin != nil {
				pin.release()
			}
		}
	}()
	for i, ms := range spec.Maps {
		h := mapHandleBase + uint64(i)*handleStride
		c.byName[ms.Name] = i
		c.bySpec[ms] = i
		if ms.IsArena() {
			if c.arena != nil {
				return nil, fmt.Errorf("map %s: only single ARENA map is supported: %w", ms.Name, errInval)
			}
			a, err := newArena(ms, pin)
			if err != nil {
				return nil, err
			}
			a.kernel = c.kernel
			c.arena, c.arenaHandle = a, h
			c.maps = append(c.maps, nil)
			continue
		}
		ms2 := ms
		if ms.Type == 0 && isDataSection(ms.Section) {
			// Global data backed by a one-element array.
			cp := *ms
			cp.Type, cp.KeySize = object.Array, 4
			if cp.MaxEntries == 0 {
				cp.MaxEntries = 1
			}
			ms2 = &cp
		}
		m, err := newMap(ms2, h)
		if err != nil {
			return nil, err
		}
		if pin != nil {
			unmap, err := pin.backMap(m)
			if err != nil {
				return nil, fmt.Errorf("map %s: %w", ms.Name, err)
			}
			c.unmaps = append(c.unmaps, unmap)
		}
		if ms.Section == ".kconfig" {
			// As strict as libbpf where the host has a configuration to
			// read; elsewhere missing values stay zero.
			host := kconfig.Host()
			if opts.KernelConfig != nil {
				host = *opts.KernelConfig
			}
			if err := kconfig.Fill(m.slab[:m.valueSize], spec.Externs, host, len(host.Values) > 0); err != nil {
				return nil, err
			}
		}
		m.spec = ms
		c.maps = append(c.maps, m)
		c.regions = append(c.regions, region{start: addrOf(m.slab), mem: m.slab, write: !m.readOnly, name: "map " + m.name})
	}
	for _, v := range spec.Variables {
		if v.Map != nil && v.Map.IsArena() && c.arena == nil {
			return nil, fmt.Errorf("arena global %s without an arena map: %w", v.Name, errNoEnt)
		}
	}
	want := map[string]bool{}
	for _, n := range opts.Programs {
		want[n] = true
	}
	c.target = coreTarget(spec)
	if opts.KernelBTF != nil {
		c.target = opts.KernelBTF
	}
	structs := &mapStructs{target: c.target}
	for i, ms := range spec.Maps {
		st := structs.lookup(ms)
		if st == nil {
			continue
		}
		var start, end uint64
		if ms.IsArena() {
			start, end = c.arena.start, c.arena.start+c.arena.size
		}
		if img := mapStructImage(st, ms, uint32(i+1), start, end); img != nil {
			c.regions = append(c.regions, region{start: mapHandleBase + uint64(i)*handleStride, mem: img, name: "struct " + st.Name + " of map " + ms.Name})
		}
	}
	for _, ps := range spec.Programs {
		if opts.Programs != nil && !want[ps.Name] {
			continue
		}
		for _, rel := range ps.Relocations {
			e := rel.Extern
			if e == nil || e.Kind != object.ExternKfunc || e.Weak {
				continue
			}
			// A strong kfunc must exist, as for the kernel engine (and
			// libbpf); a weak one may be missing and is then
			// eliminated, or refused where a program reaches it.
			if _, ok := kfuncs[e.Name]; !ok {
				return nil, fmt.Errorf("program %s: kfunc %s: not provided by the vm engine: %w", ps.Name, e.Name, errNoEnt)
			}
			if err := c.kernel.HasKfunc(e.Name); err != nil {
				return nil, fmt.Errorf("program %s: %w", ps.Name, err)
			}
		}
	}
	env := verifier.Env{ArenaFixed: c.arena != nil, LogLevel: opts.LogLevel, MapStruct: structs.lookup, Kernel: c.kernel,
		MapContents: func(ms *object.MapSpec) []byte {
			if m, ok := c.mapOf(ms); ok {
				return m.slab[:m.valueSize]
			}
			return ms.Contents
		}}
	for _, ps := range spec.Programs {
		if opts.Programs != nil && !want[ps.Name] {
			continue
		}
		if len(ps.CORERelos) > 0 {
			insns, err := applyCORE(spec, ps, c.target)
			if err != nil {
				return nil, fmt.Errorf("program %s: %w", ps.Name, err)
			}
			cp := *ps
			cp.Instructions = insns
			ps = &cp
		}
		res, err := verify(ps, env)
		if err != nil {
			return nil, err
		}
		p, err := c.compile(ps, res)
		if err != nil {
			return nil, fmt.Errorf("program %s: %w", ps.Name, err)
		}
		p.log = res.Log
		c.progs[ps.Name] = &Program{p: p}
	}
	if err := c.fillSlots(); err != nil {
		return nil, err
	}
	if pin != nil {
		if err := pin.finish(); err != nil {
			return nil, err
		}
	}
	c.pool.New = func() any { return newMachine(c) }
	ok = true
	return c, nil
}

func isDataSection(s string) bool {
	for _, p := range []string{".bss", ".data", ".rodata", ".kconfig"} {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

func (c *Collection) handleOf(ms *object.MapSpec) (uint64, bool) {
	i, ok := c.bySpec[ms]
	if !ok {
		return 0, false
	}
	return mapHandleBase + uint64(i)*handleStride, true
}

func (c *Collection) mapOf(ms *object.MapSpec) (*vmMap, bool) {
	i, ok := c.bySpec[ms]
	if !ok || c.maps[i] == nil {
		return nil, false
	}
	return c.maps[i], true
}

// Program returns a loaded program.
func (c *Collection) Program(name string) (engine.Program, bool) {
	p, ok := c.progs[name]
	if !ok {
		return nil, false
	}
	return p, true
}

// Arena returns the arena, nil if the object has none.
func (c *Collection) Arena() *arena.Arena {
	if c.arena == nil {
		return nil
	}
	return c.arena.pub
}

// Data returns the live bytes of a global data map.
func (c *Collection) Data(ms *object.MapSpec) ([]byte, bool) {
	i, ok := c.bySpec[ms]
	if !ok {
		i, ok = c.byName[ms.Name]
	}
	if !ok || c.maps[i] == nil {
		return nil, false
	}
	m := c.maps[i]
	return m.slab[:m.valueSize:m.valueSize], true
}

// Map returns a loaded map by name.
func (c *Collection) Map(name string) (engine.Map, bool) {
	i, ok := c.byName[name]
	if !ok {
		return nil, false
	}
	if c.maps[i] == nil {
		return arenaMap{}, true
	}
	return &Map{m: c.maps[i]}, true
}

// Close unmaps the arena. Programs must not be running.
func (c *Collection) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		if c.arena != nil {
			c.arena.unmap()
		}
		for _, f := range c.unmaps {
			f()
		}
	})
	return nil
}

// Program is a loaded program of a vm collection.
type Program struct{ p *program }

// FD is -1: vm programs have no file descriptor.
func (p *Program) FD() int { return -1 }

// Log is the verifier log of the load.
func (p *Program) Log() string { return p.p.log }

// errClosed is the public ErrClosed.
var errClosed = arena.ErrClosed

// Ctx layouts of the packet program types (UAPI struct __sk_buff and
// struct xdp_md): size and the offsets of the fields test runs fill in.
const (
	skbSize         = 192
	skbLen          = 0
	skbProtocol     = 16
	skbIngressIf    = 36
	skbIfindex      = 40
	skbData         = 76
	skbDataEnd      = 80
	skbDataMeta     = 140
	xdpSize         = 24
	xdpData         = 0
	xdpDataEnd      = 4
	xdpDataMeta     = 8
	xdpIngressIf    = 12
	ethHeaderLength = 14
)

// Run runs the program opts.Repeat times (at least once).
func (p *Program) Run(opts engine.RunOptions) (engine.RunResult, error) {
	c := p.p.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return engine.RunResult{}, errClosed
	}
	if err := testRunnable(p.p.spec); err != nil {
		return engine.RunResult{}, err
	}
	m := c.pool.Get().(*machine)
	defer func() {
		m.regions = m.regions[:0]
		m.faults = nil
		m.output = nil
		m.held = m.held[:0]
		m.prof = nil
		c.pool.Put(m)
	}()
	m.p = p.p
	m.cpu = opts.CPU
	m.regions = append(m.regions[:0], c.regions...)

	var r1 uint64
	var ctx, pkt []byte
	pktOff := 0
	typ := p.p.spec.Type
	switch typ {
	case object.SchedCLS, object.SchedACT, object.SocketFilter, object.XDP:
		if len(opts.Data) < ethHeaderLength {
			return engine.RunResult{}, fmt.Errorf("program %s: packet of %d bytes is shorter than an Ethernet header: %w",
				p.p.name, len(opts.Data), errInval)
		}
		room := len(opts.Data)
		pkt = make([]byte, room)
		copy(pkt, opts.Data)
		data := addrOf(pkt)
		if typ == object.SocketFilter {
			// The socket path has already pulled the Ethernet header.
			pktOff = ethHeaderLength
			data += ethHeaderLength
		}
		end := addrOf(pkt) + uint64(len(pkt))
		if typ == object.XDP {
			ctx = make([]byte, xdpSize)
			binary.LittleEndian.PutUint32(ctx[xdpIngressIf:], 1)
		} else {
			ctx = make([]byte, skbSize)
			if len(opts.Context) > 0 {
				copy(ctx, opts.Context)
			}
			binary.LittleEndian.PutUint32(ctx[skbLen:], uint32(len(pkt)-pktOff))
			// skb->protocol is big endian; the u32 field holds its bytes.
			binary.LittleEndian.PutUint32(ctx[skbProtocol:], uint32(binary.LittleEndian.Uint16(pkt[12:14])))
			binary.LittleEndian.PutUint32(ctx[skbIfindex:], 1)
			binary.LittleEndian.PutUint32(ctx[skbIngressIf:], 1)
		}
		m.regions = append(m.regions, region{start: addrOf(pkt), mem: pkt, write: true, name: "packet"})
		ctxRg := region{start: addrOf(ctx), mem: ctx, write: true, name: "ctx"}
		if typ == object.XDP {
			ctxRg.ptrs = []ptrField{{xdpData, data}, {xdpDataEnd, end}, {xdpDataMeta, data}}
		} else {
			ctxRg.ptrs = []ptrField{{skbData, data}, {skbDataEnd, end}, {skbDataMeta, data}}
		}
		m.regions = append(m.regions, ctxRg)
		r1 = addrOf(ctx)
	default:
		if len(opts.Context) > 0 {
			ctx = append([]byte(nil), opts.Context...)
			m.regions = append(m.regions, region{start: addrOf(ctx), mem: ctx, write: true, name: "ctx"})
			r1 = addrOf(ctx)
		}
	}

	n := opts.Repeat
	if n == 0 {
		n = 1
	}
	var res engine.RunResult
	if opts.Profile {
		m.prof = newRunProfile(p.p)
	}
	start := time.Now()
	for i := uint32(0); i < n; i++ {
		m.budget = c.budget
		m.held = m.held[:0]
		m.tailCalls = 0
		r0, err := m.call(0, r1, 0, 0, 0, 0, 0)
		m.flushDeferred()
		if err != nil {
			res.Faults = m.faults
			res.Output = string(m.output)
			return res, err
		}
		res.Retval = uint32(r0)
	}
	total := time.Since(start)
	res.Duration = total / time.Duration(n)
	if m.prof != nil {
		res.Profile = m.prof.build(p.p, n, total)
	}
	res.Faults = m.faults
	res.Output = string(m.output)
	if pkt != nil {
		res.DataOut = append([]byte(nil), pkt...)
		if opts.DataOutSize > 0 && len(res.DataOut) > opts.DataOutSize {
			res.DataOut = res.DataOut[:opts.DataOutSize]
		}
	}
	if opts.ContextOutSize > 0 && ctx != nil {
		res.ContextOut = append([]byte(nil), ctx[:min(len(ctx), opts.ContextOutSize)]...)
	}
	return res, nil
}

// testRunnable reports, as the kernel's BPF_PROG_TEST_RUN does, whether a
// program of ps's type can be test-run. The kernel has no test run for
// kprobes (uprobes included), tracepoints, perf events, writable raw
// tracepoints, LSM and extension programs, nor for tracing programs other
// than fentry, fexit and fmod_ret (their test run calls the kernel
// functions they attach to); it answers ENOTSUPP (524). Running them here
// would give results no kernel can confirm, so the vm refuses them too.
func testRunnable(ps *object.ProgramSpec) error {
	why := ""
	switch ps.Type {
	case object.Kprobe:
		why = "kprobe"
	case object.TracePoint:
		why = "tracepoint"
	case object.PerfEvent:
		why = "perf_event"
	case object.RawTracepointW:
		why = "writable raw tracepoint"
	case object.LSM:
		why = "LSM"
	case object.Extension:
		why = "extension"
	case object.Tracing:
		switch ps.AttachType {
		case object.AttachTraceFEntry, object.AttachTraceFExit, object.AttachModifyReturn:
		default:
			why = "tracing (other than fentry, fexit and fmod_ret)"
		}
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("the kernel cannot test-run %s programs (section %q), so neither does the vm: %w",
		why, ps.Section, engine.ErrNotSupported)
}

var _ engine.Collection = (*Collection)(nil)
var _ engine.Program = (*Program)(nil)
var _ engine.Map = (*Map)(nil)
var _ arena.Backend = (*vmArena)(nil)
