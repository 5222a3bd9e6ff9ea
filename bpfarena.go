// Package bpfarena loads clang-compiled BPF objects that use an arena, runs
// their programs and shares the arena's memory with Go code.
//
// Two engines run the same object behind one API: Kernel, the running Linux
// kernel through bpf(2), and VM, an embedded pure-Go BPF runtime that
// reproduces the kernel's arena semantics and needs neither root nor an
// arena-capable kernel. VM is the default.
//
//	spec, err := bpfarena.LoadSpec("htab.bpf.o")
//	coll, err := bpfarena.Load(spec, bpfarena.Options{})
//	defer coll.Close()
//	ret, err := coll.Program("build").Run(nil)
//	head, err := bpfarena.Global[arena.Ptr[Node]](coll, "head")
//	for n := head.Get(); !n.IsNil(); n = n.Deref(coll.Arena()).Next { ... }
package bpfarena

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/kernel"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/internal/vm"
	"github.com/bpfarena/bpfarena/object"
)

// Spec is a parsed object: programs, maps, globals and arena geometry.
type Spec = object.Spec

// Errors.
var (
	// ErrNotSupported: the engine cannot run here (not Linux, not root,
	// a kernel without arenas). The error says why.
	ErrNotSupported = engine.ErrNotSupported
	// ErrNotFound: no program, map or global of that name.
	ErrNotFound = errors.New("not found")
	// ErrClosed: the collection was closed. Arena operations report the
	// same error (it is arena.ErrClosed).
	ErrClosed = arena.ErrClosed
	// ErrReadOnly: the global lives in read-only data (.rodata, .kconfig)
	// of a loaded collection.
	ErrReadOnly = errors.New("global is read-only")
	// ErrPinMismatch: Options.PinPath holds maps that differ from the
	// object's.
	ErrPinMismatch = engine.ErrPinMismatch
)

// LoadSpec parses the BPF ELF object at path. Nothing is loaded.
func LoadSpec(path string) (*Spec, error) {
	return object.Load(path)
}

// LoadSpecFromReader parses an object held in memory; name is used in
// errors and as the spec's Path.
func LoadSpecFromReader(r io.ReaderAt, name string) (*Spec, error) {
	return object.LoadReader(r, name)
}

// Engine selects what runs the programs.
type Engine int

// Engines.
const (
	// VM is the embedded pure-Go runtime (the default).
	VM Engine = iota
	// Kernel is the running Linux kernel through bpf(2).
	Kernel
)

func (e Engine) String() string {
	switch e {
	case VM:
		return "vm"
	case Kernel:
		return "kernel"
	}
	return fmt.Sprintf("engine(%d)", int(e))
}

// ParseEngine parses "vm" or "kernel".
func ParseEngine(s string) (Engine, error) {
	switch strings.ToLower(s) {
	case "vm", "":
		return VM, nil
	case "kernel":
		return Kernel, nil
	}
	return 0, fmt.Errorf("unknown engine %q (want vm or kernel)", s)
}

// Options control Load.
type Options struct {
	Engine Engine
	// LogLevel is the verifier log level: 0 keeps the log only when a
	// program is rejected; 1 and 2 keep it always.
	LogLevel uint32
	// InsnBudget bounds the instructions of one vm run (0: the default).
	InsnBudget uint64
	// Programs, if set, loads only these programs.
	Programs []string
	// Kernel names the kernel whose behaviour the vm reproduces:
	// a modelled version such as "6.12", "6.18" or "7.3" (see
	// KernelVersions), "host" for the running kernel's version, or ""
	// for the newest. The kernel engine always runs the running kernel;
	// for it Kernel must be "", "host" or the running kernel's version.
	Kernel string
	// PinPath, if set, is a directory that keeps the arena and the maps
	// beyond this collection and shares them with other loads of the
	// same object, in this process or others. The first load creates
	// them there; a later one checks that the object's maps match
	// (ErrPinMismatch otherwise) and uses them: the arena at the same
	// address, with its pages, and the globals with their values.
	// Unpin removes them. On the vm the directory holds the memory
	// itself (sparse files mapped shared), and only the arena, arrays
	// and global data can be pinned.
	PinPath string
}

// Unpin removes what Load with Options.PinPath keeps in dir, on either
// engine. Collections still loaded keep working on their mappings.
func Unpin(dir string) error {
	if kernel.IsPinDir(dir) {
		return kernel.Unpin(dir)
	}
	return vm.Unpin(dir)
}

// KernelVersions lists the kernel versions the vm models, oldest first.
func KernelVersions() []string { return kversion.Names() }

// ErrKernelVersion is returned for a Kernel option the engine cannot
// honour: an unknown version, one without arenas, or, for the kernel
// engine, another version than the running kernel's.
var ErrKernelVersion = errors.New("kernel version")

// ErrMissingKfunc is wrapped by a load that fails because a program calls
// a kernel function the (running or modelled) kernel does not have; the
// message names the release that added it.
var ErrMissingKfunc = kversion.ErrMissingKfunc

// RunOptions are the inputs of Program.Test.
type RunOptions = engine.RunOptions

// RunResult is the outcome of Program.Test.
type RunResult = engine.RunResult

// Fault is an arena access to an absent or reserved page during a run.
type Fault = engine.Fault

// Profile is where a profiled run (RunOptions.Profile) spent its
// instructions and time, by source line and by function; WriteProfile
// writes it for go tool pprof.
type Profile = engine.Profile

// ProfileLine is one source line of a Profile.
type ProfileLine = engine.ProfileLine

// ProfileFunc is one function of a Profile.
type ProfileFunc = engine.ProfileFunc

// Collection is a loaded object. Its methods are safe for concurrent use;
// programs may run concurrently. Close may be called at any time: calls in
// flight (program runs, map and arena operations, global reads) complete
// first, and every later call returns an error wrapping ErrClosed.
type Collection struct {
	spec   *Spec
	engine Engine
	eng    engine.Collection

	// mu is held for reading by every call that uses the engine's
	// objects or memory, and for writing by Close, which releases them.
	mu     sync.RWMutex
	closed bool
	progs  map[string]*Program
}

// use runs f with the collection open and Close held off until f returns.
// kind and name say what was used, for the error (built only then, so
// that the common path does not allocate).
func (c *Collection) use(kind, name string, f func() error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return fmt.Errorf("%s %q: %w", kind, name, ErrClosed)
	}
	return f()
}

// Load loads spec on the chosen engine. The spec is not modified.
func Load(spec *Spec, opts Options) (*Collection, error) {
	if spec == nil {
		return nil, errors.New("bpfarena: nil spec")
	}
	eopts := engine.Options{
		LogLevel:   opts.LogLevel,
		InsnBudget: opts.InsnBudget,
		Programs:   opts.Programs,
		PinPath:    opts.PinPath,
	}
	model, err := kernelModel(opts)
	if err != nil {
		return nil, err
	}
	eopts.Kernel = model
	if opts.Programs == nil {
		// As libbpf: programs of "?" sections load only when named.
		for _, ps := range spec.Programs {
			if ps.NoAutoload {
				eopts.Programs = []string{}
				for _, ps := range spec.Programs {
					if !ps.NoAutoload {
						eopts.Programs = append(eopts.Programs, ps.Name)
					}
				}
				break
			}
		}
	}
	if opts.Engine == VM && opts.Kernel != "" && opts.Kernel != "host" {
		// The modelled kernel's own types and configuration, where the
		// kernel matrix has them; else the running kernel's.
		kf := modelledKernelFiles(model.Version.String())
		eopts.KernelBTF, eopts.KernelConfig = kf.btf, kf.config
	}
	for _, name := range opts.Programs {
		if spec.Program(name) == nil {
			return nil, fmt.Errorf("bpfarena: %s: program %q: %w", spec.Path, name, ErrNotFound)
		}
	}
	var ec engine.Collection
	switch opts.Engine {
	case VM:
		ec, err = loadVM(spec, eopts)
	case Kernel:
		ec, err = loadKernel(spec, eopts)
	default:
		return nil, fmt.Errorf("bpfarena: unknown engine %d", opts.Engine)
	}
	if err != nil {
		return nil, asVerifierError(opts.Engine, spec, err)
	}
	c := &Collection{spec: spec, engine: opts.Engine, eng: ec, progs: map[string]*Program{}}
	for _, ps := range spec.Programs {
		ep, ok := ec.Program(ps.Name)
		if !ok {
			continue
		}
		c.progs[ps.Name] = &Program{coll: c, spec: ps, p: ep}
	}
	return c, nil
}

// kernelModel resolves Options.Kernel for the chosen engine.
func kernelModel(opts Options) (*kversion.Model, error) {
	if opts.Engine == Kernel {
		if opts.Kernel == "" || opts.Kernel == "host" {
			return nil, nil
		}
		want, err := kversion.ParseVersion(opts.Kernel)
		if err != nil {
			return nil, fmt.Errorf("bpfarena: %w: %w", ErrKernelVersion, err)
		}
		rel, err := kversion.HostRelease()
		if err != nil {
			return nil, fmt.Errorf("bpfarena: %w: %w", ErrKernelVersion, err)
		}
		if have, err := kversion.ParseVersion(rel); err != nil || have != want {
			return nil, fmt.Errorf("bpfarena: %w: the kernel engine runs the running kernel (%s), not %s", ErrKernelVersion, rel, want)
		}
		return nil, nil
	}
	m, err := kversion.Parse(opts.Kernel)
	if err != nil {
		return nil, fmt.Errorf("bpfarena: %w: %w", ErrKernelVersion, err)
	}
	return m, nil
}

// Engine reports which engine runs the collection.
func (c *Collection) Engine() Engine { return c.engine }

// Spec is the spec the collection was loaded from.
func (c *Collection) Spec() *Spec { return c.spec }

// Program returns the named program. For a name that is not loaded it
// returns a placeholder (never nil) whose methods fail with ErrNotFound,
// so calls can be chained: c.Program("x").Run(nil).
func (c *Collection) Program(name string) *Program {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if p, ok := c.progs[name]; ok {
		return p
	}
	return &Program{coll: c, missing: name}
}

// Programs lists the loaded programs in section order.
func (c *Collection) Programs() []*Program {
	var out []*Program
	for _, ps := range c.spec.Programs {
		if p, ok := c.progs[ps.Name]; ok {
			out = append(out, p)
		}
	}
	return out
}

// Arena returns the collection's arena, or nil if the object has none.
func (c *Collection) Arena() *arena.Arena {
	return c.eng.Arena()
}

// Map is a loaded map.
type Map struct {
	Spec *object.MapSpec
	m    engine.Map
	coll *Collection
}

// Map returns the named map, or an error wrapping ErrNotFound.
func (c *Collection) Map(name string) (*Map, error) {
	ms := c.spec.Map(name)
	if ms == nil {
		return nil, fmt.Errorf("map %q: %w", name, ErrNotFound)
	}
	m, ok := c.eng.Map(name)
	if !ok {
		return nil, fmt.Errorf("map %q is not loaded: %w", name, ErrNotFound)
	}
	return &Map{Spec: ms, m: m, coll: c}, nil
}

// Lookup returns a copy of the value stored under key.
func (m *Map) Lookup(key []byte) ([]byte, error) {
	var v []byte
	err := m.coll.use("map", m.Spec.Name, func() (err error) {
		v, err = m.m.Lookup(key)
		return err
	})
	return v, err
}

// Update stores value under key (flags: 0 any, 1 no-exist, 2 exist).
func (m *Map) Update(key, value []byte, flags uint64) error {
	return m.coll.use("map", m.Spec.Name, func() error { return m.m.Update(key, value, flags) })
}

// Delete removes key.
func (m *Map) Delete(key []byte) error {
	return m.coll.use("map", m.Spec.Name, func() error { return m.m.Delete(key) })
}

// FD is the map's file descriptor on the kernel engine, -1 on the vm or
// once the collection is closed.
func (m *Map) FD() int {
	fd := -1
	m.coll.use("map", m.Spec.Name, func() error {
		fd = m.m.FD()
		return nil
	})
	return fd
}

// Close releases every program, map and mapping of the collection, after
// the calls in flight have returned (a running program finishes first).
// Slices from Variable.Bytes and pointers from arena.Ptr.Deref must not be
// used afterwards; Var.Get, Variable.Read and arena.Ptr.Load report
// ErrClosed instead.
func (c *Collection) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if a := c.eng.Arena(); a != nil {
		a.Close()
	}
	return c.eng.Close()
}

// Program is a loaded program.
type Program struct {
	coll    *Collection
	spec    *object.ProgramSpec
	p       engine.Program
	missing string
}

func (p *Program) check() error {
	if p == nil || p.coll == nil {
		return fmt.Errorf("program: %w", ErrNotFound)
	}
	if p.p == nil {
		return fmt.Errorf("program %q: %w", p.missing, ErrNotFound)
	}
	return nil
}

// use runs f on the loaded program with the collection open.
func (p *Program) use(f func() error) error {
	if err := p.check(); err != nil {
		return err
	}
	c := p.coll
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return fmt.Errorf("program %q: %w", p.spec.Name, ErrClosed)
	}
	return f()
}

// Name is the program's function name.
func (p *Program) Name() string {
	if p == nil {
		return ""
	}
	if p.spec == nil {
		return p.missing
	}
	return p.spec.Name
}

// Spec is the program's spec.
func (p *Program) Spec() *object.ProgramSpec { return p.spec }

// Run runs the program once with ctx as its context (syscall programs;
// nil for none) and returns its return value as the kernel reports it.
func (p *Program) Run(ctx []byte) (uint32, error) {
	res, err := p.Test(RunOptions{Context: ctx})
	if err != nil {
		return 0, err
	}
	return res.Retval, nil
}

// Test runs the program with the given inputs (BPF_PROG_TEST_RUN).
// A Close meanwhile waits for the run to end.
func (p *Program) Test(opts RunOptions) (*RunResult, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	c := p.coll
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, fmt.Errorf("program %q: %w", p.spec.Name, ErrClosed)
	}
	if opts.Profile && c.engine != VM {
		return nil, fmt.Errorf("run %s: profiles count the vm's instructions; the %v engine cannot give them: %w",
			p.spec.Name, c.engine, ErrNotSupported)
	}
	res, err := p.p.Run(opts)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", p.spec.Name, err)
	}
	return &res, nil
}

// FD is the program's file descriptor on the kernel engine, -1 on the vm
// or once the collection is closed.
func (p *Program) FD() int {
	fd := -1
	p.use(func() error {
		fd = p.p.FD()
		return nil
	})
	return fd
}

// Log is the verifier log of the program's load.
func (p *Program) Log() string {
	log := ""
	p.use(func() error {
		log = p.p.Log()
		return nil
	})
	return log
}
