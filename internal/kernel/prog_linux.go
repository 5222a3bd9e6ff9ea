//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/corerelo"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/sys"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// program is a loaded program.
type program struct {
	name string
	spec *object.ProgramSpec
	fd   *sys.FD
	log  string
}

func (p *program) FD() int      { return p.fd.Int() }
func (p *program) Log() string  { return p.log }
func (p *program) Name() string { return p.name }

// missingKfunc numbers the weak kfuncs the kernel lacks.
func (c *collection) missingKfunc(name string) int {
	for i, n := range c.missing {
		if n == name {
			return i
		}
	}
	c.missing = append(c.missing, name)
	return len(c.missing) - 1
}

var poisonRe = regexp.MustCompile(`unknown#(\d+)`)

// poisonCause turns the verifier's rejection of a poisoned call into the
// reason: the kfunc this kernel lacks, and the release that added it.
func (c *collection) poisonCause(log string) error {
	m := poisonRe.FindStringSubmatch(log)
	if m == nil {
		return nil
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < poisonKfuncBase || n-poisonKfuncBase >= len(c.missing) {
		return nil
	}
	return MissingKfunc(c.missing[n-poisonKfuncBase])
}

// MissingKfunc is the error for a kfunc the running kernel does not have.
func MissingKfunc(name string) error {
	rel, _ := kversion.HostRelease()
	v, err := kversion.ParseVersion(rel)
	if err == nil {
		for _, k := range kversion.Kfuncs {
			if k.Name == name && v.Less(k.Since) {
				return fmt.Errorf("kfunc %s: %w (%s); it arrived in %s", name, kversion.ErrMissingKfunc, rel, k.Since)
			}
		}
	}
	return fmt.Errorf("kfunc %s: %w (%s)", name, kversion.ErrMissingKfunc, rel)
}

// poisonKfuncBase is the helper id libbpf writes into calls of __weak
// kfuncs the kernel lacks: an invalid helper call the verifier only
// rejects if it is reachable, so code guarded by bpf_ksym_exists() loads.
const poisonKfuncBase = 2002000000

// loadProgram relocates a copy of the program's instructions and loads it.
func (c *collection) loadProgram(spec *object.Spec, ps *object.ProgramSpec, opts engine.Options) error {
	insns := slices.Clone(ps.Instructions)
	if err := c.applyCORE(spec, ps, insns); err != nil {
		return err
	}
	if err := c.relocate(ps, insns); err != nil {
		return err
	}
	code := insns.Encode(nil)
	license := ps.License
	if license == "" {
		license = spec.License
	}
	attr := sys.ProgLoadAttr{
		ProgType:           uint32(ps.Type),
		InsnCnt:            uint32(len(code) / asm.InstructionSize),
		Insns:              sys.SlicePointer(code),
		License:            sys.StringPointer(license),
		ProgName:           sys.NewObjName(sanitizeName(ps.Name)),
		ExpectedAttachType: uint32(ps.AttachType),
	}
	// Syscall programs must be sleepable on 6.18, and libbpf marks every
	// SEC("syscall") program so.
	if ps.Sleepable || ps.Type == object.Syscall {
		attr.ProgFlags |= sys.ProgFlagSleepable
	}
	funcInfo, lineInfo := c.btfExt(spec, ps)
	if funcInfo != nil {
		attr.ProgBTFFD = c.btfFD.Uint()
		attr.FuncInfoRecSize = sys.FuncInfoSize
		attr.FuncInfo = sys.SlicePointer(funcInfo)
		attr.FuncInfoCnt = uint32(len(funcInfo) / sys.FuncInfoSize)
		if lineInfo != nil {
			attr.LineInfoRecSize = sys.LineInfoSize
			attr.LineInfo = sys.SlicePointer(lineInfo)
			attr.LineInfoCnt = uint32(len(lineInfo) / sys.LineInfoSize)
		}
	}
	if id, err := attachBTFID(ps); err != nil {
		return fmt.Errorf("program %s: %w", ps.Name, err)
	} else if id != 0 {
		attr.AttachBTFID = uint32(id)
	}
	var fdArray []int32
	if len(c.fdArray) > 0 {
		fdArray = slices.Clone(c.fdArray)
		attr.FDArray = sys.SlicePointer(fdArray)
	}
	fd, log, err := sys.ProgLoad(&attr, sys.ProgLoadOptions{LogLevel: opts.LogLevel, LogSize: opts.LogSize})
	runtime.KeepAlive(code)
	runtime.KeepAlive(funcInfo)
	runtime.KeepAlive(lineInfo)
	runtime.KeepAlive(fdArray)
	if err != nil {
		var le *sys.LoadError
		if !errors.As(err, &le) {
			return fmt.Errorf("load program %s: %w", ps.Name, err)
		}
		ve := &VerifierError{Program: ps.Name, Errno: le.Errno, Log: le.Log, Truncated: le.Truncated}
		if cause := c.poisonCause(le.Log); cause != nil {
			ve.Cause, ve.CauseErr = cause.Error(), cause
		}
		var verr error = ve
		if le.Errno == unix.EPERM && le.Log == "" {
			// Without privileges every load fails so; with them (the
			// arena probe passed) the kernel refuses this program type
			// or attach point, e.g. fentry without ftrace support.
			if os.Geteuid() != 0 {
				verr = fmt.Errorf("%w (%w: loading programs needs root or CAP_BPF)", verr, engine.ErrNotSupported)
			} else {
				verr = fmt.Errorf("%w (the kernel gave no reason: %s programs attaching to %q may be unavailable on this kernel)",
					verr, progTypeName(ps.Type), ps.AttachTo)
			}
		}
		if c.btfErr != nil {
			verr = fmt.Errorf("%w (the kernel refused the object's BTF: %v)", verr, c.btfErr)
		}
		return verr
	}
	c.progs[ps.Name] = &program{name: ps.Name, spec: ps, fd: fd, log: log}
	return nil
}

// sanitizeName makes name a valid kernel object name.
func sanitizeName(name string) string {
	b := []byte(name)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// btfExt encodes the program's func info and line info against the loaded
// BTF. Both are all or nothing: the kernel wants func info for every
// function once it gets any, so a function without a BTF type drops both.
func (c *collection) btfExt(spec *object.Spec, ps *object.ProgramSpec) (funcInfo, lineInfo []byte) {
	if c.btfFD == nil || spec.BTF == nil || len(ps.Funcs) == 0 {
		return nil, nil
	}
	for _, f := range ps.Funcs {
		if f.Type == nil {
			return nil, nil
		}
		id, err := spec.BTF.TypeID(f.Type)
		if err != nil {
			return nil, nil
		}
		funcInfo = binary.LittleEndian.AppendUint32(funcInfo, uint32(f.Slot))
		funcInfo = binary.LittleEndian.AppendUint32(funcInfo, uint32(id))
	}
	for _, l := range ps.Lines {
		col := min(l.Column, 1<<10-1)
		lineInfo = binary.LittleEndian.AppendUint32(lineInfo, uint32(l.Slot))
		lineInfo = binary.LittleEndian.AppendUint32(lineInfo, c.raw.stringOffset(l.File))
		lineInfo = binary.LittleEndian.AppendUint32(lineInfo, c.raw.stringOffset(l.Source))
		lineInfo = binary.LittleEndian.AppendUint32(lineInfo, l.Line<<10|col)
	}
	return funcInfo, lineInfo
}

// applyCORE resolves the program's CO-RE relocations against the running
// kernel's BTF and patches the instructions.
func (c *collection) applyCORE(spec *object.Spec, ps *object.ProgramSpec, insns asm.Instructions) error {
	if len(ps.CORERelos) == 0 {
		return nil
	}
	kspec, err := kernelSpec()
	if err != nil {
		return fmt.Errorf("program %s: CO-RE: %w", ps.Name, err)
	}
	if err := corerelo.Apply(spec, ps, insns, kspec); err != nil {
		return fmt.Errorf("program %s: %w", ps.Name, err)
	}
	return nil
}

// relocate fills in map fds, global offsets and kernel BTF ids.
func (c *collection) relocate(ps *object.ProgramSpec, insns asm.Instructions) error {
	for at, r := range ps.Relocations {
		if at < 0 || at >= len(insns) {
			return fmt.Errorf("program %s: relocation at instruction %d of %d", ps.Name, at, len(insns))
		}
		ins := &insns[at]
		bad := func(format string, a ...any) error {
			return fmt.Errorf("program %s: instruction %d (%s): %s", ps.Name, at, r.Symbol, fmt.Sprintf(format, a...))
		}
		switch r.Kind {
		case object.RelocMap, object.RelocMapValue, object.RelocKconfig:
			if !ins.IsLoadImm64() {
				return bad("map reference is not an ld_imm64")
			}
			km, ok := c.maps[r.Map]
			if !ok {
				return bad("map %v was not created", mapName(r.Map))
			}
			if r.Kind == object.RelocMap {
				ins.Src = asm.PseudoMapFD
				ins.Constant = int64(km.fd.Uint())
				continue
			}
			off := r.Offset
			if r.Kind == object.RelocKconfig && r.Extern != nil && off == 0 {
				off = r.Extern.Offset
			}
			ins.Src = asm.PseudoMapValue
			ins.Constant = int64(uint64(km.fd.Uint()) | uint64(off)<<32)
		case object.RelocKfunc, object.RelocKsym:
			if err := c.relocateExtern(ins, r); err != nil {
				return fmt.Errorf("program %s: instruction %d: %w", ps.Name, at, err)
			}
		default:
			return bad("unknown relocation kind %d", r.Kind)
		}
	}
	return nil
}

func mapName(m *object.MapSpec) string {
	if m == nil {
		return "<nil>"
	}
	return m.Name
}

// relocateExtern resolves a __ksym extern: kfunc calls get the function's
// BTF id, ld_imm64 of a typed kernel variable gets its BTF id, typeless
// ones their kallsyms address; missing __weak ones become 0.
func (c *collection) relocateExtern(ins *asm.Instruction, r object.Relocation) error {
	e := r.Extern
	if e == nil {
		return errors.New("extern relocation without an extern")
	}
	isFunc := e.Kind == object.ExternKfunc
	if _, ok := e.Type.(*btf.Func); ok {
		isFunc = true
	}
	var sym kernelSym
	var err error
	var addr uint64
	switch {
	case isFunc:
		sym, err = findKernelSym(idxFunc, e.Name)
	case e.Type == nil || isVoid(e.Type):
		addr, err = kallsymsAddr(e.Name)
	default:
		sym, err = findKernelSym(idxVar, e.Name)
	}
	missing := err != nil
	if missing && !e.Weak {
		// libbpf fails such a load with ESRCH too.
		return fmt.Errorf("kernel symbol %w (%w)", err, unix.ESRCH)
	}
	var objIdx, objFD int32
	if !missing && sym.module != "" {
		objIdx, objFD, err = c.moduleBTF(sym.module)
		if err != nil {
			return err
		}
	}
	switch {
	case ins.IsCall():
		if missing {
			// The number tells which kfunc a rejection is about.
			ins.Src = asm.PseudoHelperCall
			ins.Offset = 0
			ins.Constant = poisonKfuncBase + int64(c.missingKfunc(e.Name))
			return nil
		}
		ins.Src = asm.PseudoKfuncCall
		ins.Offset = int16(objIdx)
		ins.Constant = int64(sym.id)
	case ins.IsLoadImm64():
		switch {
		case missing:
			ins.Src = 0
			ins.Constant = 0
		case addr != 0:
			ins.Src = 0
			ins.Constant = int64(addr)
		default:
			ins.Src = asm.PseudoBTFID
			ins.Constant = int64(uint64(uint32(sym.id)) | uint64(uint32(objFD))<<32)
		}
	default:
		return fmt.Errorf("extern %s used by an instruction that is neither a call nor ld_imm64", e.Name)
	}
	return nil
}

func isVoid(t btf.Type) bool {
	_, ok := t.(*btf.Void)
	return ok
}

// moduleBTF opens a kernel module's BTF once per collection and gives its
// fd_array index (for kfunc calls) and fd (for ksym variables).
func (c *collection) moduleBTF(module string) (int32, int32, error) {
	if c.modules == nil {
		c.modules = make(map[string]*btf.Handle)
	}
	h, ok := c.modules[module]
	if !ok {
		var err error
		h, err = btf.FindHandle(func(info *btf.HandleInfo) bool {
			return info.IsModule() && info.Name == module
		})
		if err != nil {
			return 0, 0, fmt.Errorf("BTF of module %s: %w", module, err)
		}
		c.modules[module] = h
	}
	fd := int32(h.FD())
	if len(c.fdArray) == 0 {
		c.fdArray = []int32{0} // offset 0 of a kfunc call means vmlinux
	}
	if i := slices.Index(c.fdArray, fd); i > 0 {
		return int32(i), fd, nil
	}
	c.fdArray = append(c.fdArray, fd)
	return int32(len(c.fdArray) - 1), fd, nil
}

// attachBTFID finds the kernel function or type a tracing or LSM program
// attaches to, which the verifier needs at load time.
func attachBTFID(ps *object.ProgramSpec) (btf.TypeID, error) {
	if ps.Type != object.Tracing && ps.Type != object.LSM {
		return 0, nil
	}
	var sym kernelSym
	var err error
	switch ps.AttachType {
	case object.AttachTraceRawTp:
		sym, err = findKernelSym(idxTypedef, "btf_trace_"+ps.AttachTo)
	case object.AttachTraceIter:
		sym, err = findKernelSym(idxFunc, "bpf_iter_"+ps.AttachTo)
	case object.AttachLSMMac:
		sym, err = findKernelSym(idxFunc, "bpf_lsm_"+ps.AttachTo)
	default:
		sym, err = findKernelSym(idxFunc, ps.AttachTo)
	}
	if err != nil {
		return 0, fmt.Errorf("attach target %q: %w", ps.AttachTo, err)
	}
	if sym.module != "" {
		return 0, fmt.Errorf("attach target %q is in module %s: not supported yet", ps.AttachTo, sym.module)
	}
	return btf.TypeID(sym.id), nil
}

// Run runs the program with BPF_PROG_TEST_RUN and collects what it wrote
// to its streams. Syscall and raw tracepoint programs take only a ctx
// (copied back in place for syscall programs) and no repeat, which the
// kernel refuses for them (EINVAL): repeats are done here, one call each.
func (p *program) Run(opts engine.RunOptions) (engine.RunResult, error) {
	var res engine.RunResult
	if p.spec.Type == object.Syscall || p.spec.Type == object.RawTracepoint {
		n := max(opts.Repeat, 1)
		var ctx []byte
		var total time.Duration
		for i := uint32(0); i < n; i++ {
			ctx = slices.Clone(opts.Context)
			ro := sys.ProgRunOptions{CtxIn: ctx}
			// Only raw tracepoint runs can be placed on a CPU.
			if opts.CPU != 0 && p.spec.Type == object.RawTracepoint {
				ro.Flags |= sys.TestRunOnCPU
				ro.CPU = opts.CPU
			}
			start := time.Now()
			r, err := sys.ProgTestRun(p.fd, ro)
			total += time.Since(start)
			if errors.Is(err, unix.EINVAL) {
				// The kernel refuses a ctx shorter than what the
				// program reads from it.
				return res, fmt.Errorf("%w (is the %d-byte ctx as large as the program's ctx struct?)", err, len(ctx))
			}
			if err != nil {
				return res, p.runError(err)
			}
			res.Retval = r.Retval
		}
		res.Duration = total / time.Duration(n)
		if p.spec.Type == object.Syscall && (opts.ContextOutSize > 0 || len(opts.Context) > 0) {
			res.ContextOut = ctx
		}
	} else {
		ro := sys.ProgRunOptions{DataIn: opts.Data, CtxIn: opts.Context, Repeat: opts.Repeat}
		if len(opts.Data) > 0 {
			out := opts.DataOutSize
			if out == 0 {
				out = len(opts.Data) + 256
			}
			ro.DataOut = make([]byte, out)
		}
		if opts.ContextOutSize > 0 {
			ro.CtxOut = make([]byte, opts.ContextOutSize)
		}
		r, err := sys.ProgTestRun(p.fd, ro)
		if err != nil {
			return res, p.runError(err)
		}
		res.Retval = r.Retval
		res.Duration = time.Duration(r.Duration)
		res.DataOut = r.DataOut
		res.ContextOut = r.CtxOut
	}
	out, faults, err := p.readStreams()
	if err != nil {
		return res, err
	}
	res.Output = out
	res.Faults = faults
	return res, nil
}

// errnoENOTSUPP is the kernel-internal ENOTSUPP (524) that PROG_TEST_RUN
// returns for program types it cannot run.
const errnoENOTSUPP = unix.Errno(524)

// runError explains a failed test run; program types the kernel cannot
// test-run (tracepoints, kprobes, ...) are reported as not supported.
func (p *program) runError(err error) error {
	if errors.Is(err, errnoENOTSUPP) || errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("the kernel cannot test-run %s programs (section %q): %w (%w)",
			progTypeName(p.spec.Type), p.spec.Section, engine.ErrNotSupported, err)
	}
	// The caller names the program ("run NAME: ...").
	return err
}

func progTypeName(t object.ProgramType) string {
	switch t {
	case object.SocketFilter:
		return "socket filter"
	case object.Kprobe:
		return "kprobe"
	case object.SchedCLS:
		return "tc"
	case object.TracePoint:
		return "tracepoint"
	case object.XDP:
		return "xdp"
	case object.PerfEvent:
		return "perf event"
	case object.RawTracepoint:
		return "raw tracepoint"
	case object.Tracing:
		return "tracing"
	case object.LSM:
		return "lsm"
	case object.Syscall:
		return "syscall"
	}
	return fmt.Sprintf("type %d", t)
}

// readStreams drains the program's stdout (its printed output) and stderr
// (where 6.17+ kernels report arena faults).
func (p *program) readStreams() (string, []engine.Fault, error) {
	stdout, err := sys.ProgStreamRead(p.fd, sys.StreamStdout)
	if errors.Is(err, sys.ErrNoStreams) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("read stdout of %s: %w", p.name, err)
	}
	stderr, err := sys.ProgStreamRead(p.fd, sys.StreamStderr)
	if err != nil {
		return "", nil, fmt.Errorf("read stderr of %s: %w", p.name, err)
	}
	faults, rest := parseFaults(p.name, string(stderr))
	return string(stdout) + rest, faults, nil
}
