package verifier

import (
	"errors"
	"fmt"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"syscall"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

// argKind is what a helper or kfunc argument must be.
type argKind uint8

const (
	argNone       argKind = iota
	argAny                // anything readable
	argScalar             // a number
	argMapPtr             // a map (ld_imm64 map fd)
	argMapKey             // pointer to key_size readable bytes
	argMapValue           // pointer to value_size readable bytes
	argMem                // pointer to memory (size in the next argument)
	argMemOrNull          // pointer to memory or NULL
	argFunc               // a subprogram (callback)
	argRingbufMem         // memory from bpf_ringbuf_reserve
	argStack              // pointer to the stack (irq flags)
	argIter               // pointer to a bpf_iter_num on the stack
	argKfuncMap           // a map, as a trusted kfunc argument
	argMemW               // pointer to memory the helper writes (size in the next argument)
	argMapValueP          // pointer into a map value (locks)
	argCtx                // the program's context
)

// retKind is what a helper or kfunc returns in r0.
type retKind uint8

const (
	retScalar retKind = iota
	retVoid
	retMapValueOrNull // pointer to the map's value, or NULL
	retMemOrNull      // pointer to memory of the size given by an argument, or NULL
	retIntOrNull      // pointer to 4 bytes, or NULL (bpf_iter_num_next)
)

// proto describes a helper or kfunc the vm engine runs.
type proto struct {
	args      []argKind
	ret       retKind
	sizeArg   int  // retMemOrNull: index of the argument that is the size
	gplOnly   bool // refused in programs without a GPL-compatible license
	sized     bool // each memory argument is followed by its size
	sleepable bool // KF_SLEEPABLE where the kernel's PageKfuncsSleepableOnly
	// spinLockSafe is KF_SPINLOCK_SAFE: callable under bpf_spin_lock
	// where the kernel's SpinLockSafeArenaKfuncs.
	spinLockSafe bool
}

// helpers are the helper functions the vm engine provides, by id (the
// interpreter's table: internal/vm/helpers.go).
var helpers = map[int32]proto{
	1:   {args: []argKind{argMapPtr, argMapKey}, ret: retMapValueOrNull},                   // map_lookup_elem
	2:   {args: []argKind{argMapPtr, argMapKey, argMapValue, argScalar}},                   // map_update_elem
	3:   {args: []argKind{argMapPtr, argMapKey}},                                           // map_delete_elem
	5:   {},                                                                                // ktime_get_ns
	6:   {args: []argKind{argMem, argScalar}, sized: true, gplOnly: true},                  // trace_printk: r3-r5 unchecked, as in the kernel's proto
	7:   {},                                                                                // get_prandom_u32
	8:   {},                                                                                // get_smp_processor_id
	12:  {args: []argKind{argCtx, argMapPtr, argScalar}},                                   // tail_call
	14:  {},                                                                                // get_current_pid_tgid
	42:  {},                                                                                // get_numa_node_id
	93:  {args: []argKind{argMapValueP}, ret: retVoid},                                     // spin_lock
	94:  {args: []argKind{argMapValueP}, ret: retVoid},                                     // spin_unlock
	112: {args: []argKind{argMemW, argScalar, argAny}, sized: true},                        // probe_read_user
	113: {args: []argKind{argMemW, argScalar, argAny}, sized: true},                        // probe_read_kernel
	118: {},                                                                                // jiffies64
	125: {},                                                                                // ktime_get_boot_ns
	160: {},                                                                                // ktime_get_coarse_ns
	181: {args: []argKind{argScalar, argFunc, argAny, argScalar}},                          // loop
	195: {args: []argKind{argMapPtr, argMapKey, argScalar}, ret: retMapValueOrNull},        // map_lookup_percpu_elem
	130: {args: []argKind{argMapPtr, argMem, argScalar, argScalar}, sized: true},           // ringbuf_output
	131: {args: []argKind{argMapPtr, argScalar, argScalar}, ret: retMemOrNull, sizeArg: 1}, // ringbuf_reserve
	132: {args: []argKind{argRingbufMem, argScalar}, ret: retVoid},                         // ringbuf_submit
	133: {args: []argKind{argRingbufMem, argScalar}, ret: retVoid},                         // ringbuf_discard
	134: {args: []argKind{argMapPtr, argScalar}},                                           // ringbuf_query
}

// kfuncs are the kernel functions the vm engine provides, by name, with
// the flags the kernel gives them (KF_SLEEPABLE).
var kfuncs = map[string]proto{
	"bpf_arena_alloc_pages":          {args: []argKind{argKfuncMap, argAny, argScalar, argScalar, argScalar}, sleepable: true, spinLockSafe: true},
	"bpf_arena_free_pages":           {args: []argKind{argKfuncMap, argAny, argScalar}, ret: retVoid, sleepable: true, spinLockSafe: true},
	"bpf_arena_reserve_pages":        {args: []argKind{argKfuncMap, argAny, argScalar}, sleepable: true, spinLockSafe: true},
	"bpf_iter_num_new":               {args: []argKind{argIter, argScalar, argScalar}, spinLockSafe: true},
	"bpf_iter_num_next":              {args: []argKind{argIter}, ret: retIntOrNull, spinLockSafe: true},
	"bpf_iter_num_destroy":           {args: []argKind{argIter}, ret: retVoid, spinLockSafe: true},
	"bpf_preempt_disable":            {ret: retVoid},
	"bpf_preempt_enable":             {ret: retVoid},
	"bpf_local_irq_save":             {args: []argKind{argStack}, ret: retVoid},
	"bpf_local_irq_restore":          {args: []argKind{argStack}, ret: retVoid},
	"bpf_res_spin_lock":              {args: []argKind{argMapValueP}, spinLockSafe: true},
	"bpf_res_spin_unlock":            {args: []argKind{argMapValueP}, ret: retVoid, spinLockSafe: true},
	"bpf_res_spin_lock_irqsave":      {args: []argKind{argMapValueP, argStack}, spinLockSafe: true},
	"bpf_res_spin_unlock_irqrestore": {args: []argKind{argMapValueP, argStack}, ret: retVoid, spinLockSafe: true},
	"bpf_stream_vprintk":             {args: []argKind{argScalar, argMem, argMemOrNull, argScalar, argAny}, spinLockSafe: true},
	"bpf_stream_vprintk_impl":        {args: []argKind{argScalar, argMem, argMemOrNull, argScalar, argAny}},
	"bpf_rcu_read_lock":              {ret: retVoid},
	"bpf_rcu_read_unlock":            {ret: retVoid},
}

// helperMax is __BPF_FUNC_MAX_ID of Linux 6.18.
const helperMax = 212

// call handles helper, kfunc and subprogram calls.
func (v *verifier) call(pc int, st *state, ins asm.Instruction) ([]item, error) {
	switch ins.Src {
	case asm.PseudoCall:
		return v.subprogCall(pc, st, ins)
	case asm.PseudoKfuncCall:
		return v.kfuncCall(pc, st, ins)
	}
	id := int32(ins.Constant)
	if st.locks > 0 && id != 94 {
		return nil, v.fail(pc, syscall.EINVAL, "function calls are not allowed while holding a lock")
	}
	p, ok := helpers[id]
	if !ok {
		name := asm.HelperName(id)
		if id < 0 || id >= helperMax || name == "" {
			return nil, v.fail(pc, syscall.EINVAL, fmt.Sprintf("invalid func unknown#%d", id))
		}
		return nil, v.fail(pc, syscall.EINVAL, fmt.Sprintf("program of this type cannot use helper %s#%d", name, id))
	}
	if p.gplOnly && !object.GPLCompatible(v.prog.License) {
		return nil, v.fail(pc, syscall.EINVAL, "cannot call GPL-restricted function from non-GPL compatible program")
	}
	args, err := v.checkArgs(pc, st, p)
	if err != nil {
		return nil, err
	}
	if len(p.args) > 0 && p.args[0] == argMapPtr || id == 12 {
		mi := 0
		if id == 12 {
			mi = 1
		}
		if err := mapFuncCompatible(id, args[mi].mp, v.env.Kernel); err != nil {
			return nil, v.fail(pc, syscall.EINVAL, err.Error())
		}
	}
	var r0 value
	switch p.ret {
	case retScalar:
		r0 = v.anyScalar()
	case retVoid:
		r0 = notInit()
	case retMapValueOrNull:
		v.nextID++
		r0 = value{k: kMapValue, null: true, offOK: true, mp: args[0].mp, id: v.nextID}
		if mp := args[0].mp; mp != nil && (mp.Type == object.ArrayOfMaps || mp.Type == object.HashOfMaps) {
			// The inner map, known by its definition.
			r0 = value{k: kMapPtr, null: true, offOK: true, mp: mp.InnerMap, id: v.nextID}
		} else if mp != nil {
			r0.size = int64(mp.ValueSize)
		}
	case retMemOrNull:
		v.nextID++
		r0 = value{k: kMem, null: true, offOK: true, id: v.nextID}
		if a := args[p.sizeArg]; a.isConst() {
			r0.size = int64(a.v)
		}
	}
	next := []item{{pc + 1, st}}
	switch id {
	case 93:
		if st.locks > 0 {
			return nil, v.fail(pc, syscall.EINVAL, "Locking two bpf_spin_locks are not allowed")
		}
		st.locks++
	case 94:
		if st.locks == 0 {
			return nil, v.fail(pc, syscall.EINVAL, "bpf_spin_unlock without taking a lock")
		}
		st.locks--
	}
	if id == 181 {
		// bpf_loop calls its callback zero or more times, with the
		// iteration number and the context argument.
		fnArg := args[1]
		if !fnArg.is(kFunc) {
			return nil, v.fail(pc, syscall.EACCES, fmt.Sprintf("R2 type=%s expected=func", fnArg.typeName()))
		}
		cst := st.clone()
		cb := v.callbackFrame(cst, pc, int(fnArg.fn), args[2])
		if len(cst.frames) >= maxFrames {
			return nil, v.fail(pc, syscall.E2BIG, fmt.Sprintf("the call stack of %d frames is too deep !", len(cst.frames)+1))
		}
		cst.frames = append(cst.frames, cb)
		next = append(next, item{int(fnArg.fn), cst})
	}
	v.clobber(st, r0)
	return next, nil
}

// clobber sets the state after a call: r1-r5 unset, r0 the result.
func (v *verifier) clobber(st *state, r0 value) {
	f := st.cur()
	for r := asm.R1; r <= asm.R5; r++ {
		f.regs[r] = notInit()
	}
	f.regs[0] = r0
}

// checkArgs checks the argument registers of a helper or kfunc call and
// returns their values.
func (v *verifier) checkArgs(pc int, st *state, p proto) ([]value, error) {
	args := make([]value, 5)
	for i, k := range p.args {
		r := asm.Register(i + 1)
		x, err := v.reg(pc, st, r)
		if err != nil {
			return nil, err
		}
		args[i] = x
		bad := ""
		switch k {
		case argScalar:
			if !x.is(kScalar) {
				bad = "scalar"
			}
		case argMapPtr:
			if !x.is(kMapPtr) {
				bad = "map_ptr"
			}
		case argMapKey, argMapValue, argMem, argMemW:
			if x.has(kScalar|kNotInit|kMapPtr|kFunc|kPacketEnd) || x.null {
				bad = "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_"
			}
		case argMemOrNull:
			if x.has(kMapPtr|kFunc|kPacketEnd) || (x.has(kScalar) && !x.isZero()) {
				bad = "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_"
			}
		case argRingbufMem:
			if !x.is(kMem) || x.null {
				bad = "ringbuf_mem"
			}
		case argFunc:
			if !x.is(kFunc) {
				bad = "func"
			}
		case argKfuncMap:
			switch {
			case x.has(kScalar):
				return nil, v.fail(pc, syscall.EACCES, fmt.Sprintf("Possibly NULL pointer passed to trusted arg%d", i))
			case !x.is(kMapPtr):
				return nil, v.fail(pc, syscall.EINVAL, fmt.Sprintf("R%d must be referenced or trusted", r))
			}
		case argIter:
			if !x.is(kStack) || !x.offOK || int(x.frame) < 0 || int(x.frame) >= len(st.frames) {
				return nil, v.fail(pc, syscall.EINVAL, fmt.Sprintf("arg#%d expected pointer to an iterator on stack", i))
			}
		case argStack:
			if !x.is(kStack) {
				return nil, v.fail(pc, syscall.EINVAL, fmt.Sprintf("arg#%d expected pointer to an iterator on stack", i))
			}
			// The callee initialises what it is given.
			if _, err := v.mem(pc, st, r, x, 0, 8, accWrite, unknownScalar()); err != nil {
				return nil, err
			}
		case argMapValueP:
			if !x.is(kMapValue) || x.null {
				bad = "map_value"
			}
		case argCtx:
			if !x.is(kCtx) || x.null {
				bad = "ctx"
			}
		}
		if bad != "" {
			return nil, v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d type=%s expected=%s", r, x.typeName(), bad))
		}
	}
	// The memory the pointer arguments cover, where its size is known.
	for i, k := range p.args {
		size, at := int64(-1), accRead
		switch k {
		case argMapKey, argMapValue:
			if m := args[0].mp; m != nil {
				size = int64(m.KeySize)
				if k == argMapValue {
					size = int64(m.ValueSize)
				}
			}
		case argMem, argMemW:
			// Sizes of zero are the helpers' business (some allow them).
			if p.sized && i+1 < len(args) && args[i+1].isConst() && args[i+1].v != 0 {
				size = int64(args[i+1].v)
			}
			if k == argMemW {
				at = accWrite
			}
		default:
			continue
		}
		if size < 0 {
			continue
		}
		if err := v.helperMem(pc, st, asm.Register(i+1), args[i], size, at); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// helperMem checks that a helper may access size bytes at x (register r)
// and, for a write, that the stack bytes it fills become data.
func (v *verifier) helperMem(pc int, st *state, r asm.Register, x value, size int64, at accType) error {
	if size == 0 {
		// A map with no key or value (the arena) cannot be used with the
		// map helpers.
		return v.fail(pc, syscall.EACCES, "invalid zero-sized read")
	}
	if !x.single() || !x.offOK || size > maxStack {
		return nil
	}
	switch x.k {
	case kStack:
		if int(x.frame) < 0 || int(x.frame) >= len(st.frames) {
			return nil
		}
		if err := v.stackBounds(pc, r, x.off, int(size), at, true); err != nil {
			return err
		}
		v.useStack(st.frames[x.frame], x.off)
		if at == accWrite {
			f := st.frames[x.frame]
			for o := x.off; o < x.off+size; o++ {
				s := f.slotAt(o)
				if s.spilled() {
					*s = slot{b: [8]byte{byteMisc, byteMisc, byteMisc, byteMisc, byteMisc, byteMisc, byteMisc, byteMisc}}
				}
				s.b[byteIndex(o)] = byteMisc
			}
		}
	case kMapValue, kMem:
		if x.size > 0 && (x.off < 0 || x.off+size > x.size) {
			what := "map value, value_size"
			if x.k == kMem {
				what = "memory, mem_size"
			}
			return v.failRange(pc, r, fmt.Sprintf("invalid access to %s=%d off=%d size=%d", what, x.size, x.off, size))
		}
	}
	return nil
}

// kfuncCall handles a call to a kernel function, found by name.
func (v *verifier) kfuncCall(pc int, st *state, ins asm.Instruction) ([]item, error) {
	rel, ok := v.prog.Relocations[pc]
	name := ""
	if ok && rel.Extern != nil {
		name = rel.Extern.Name
	}
	p, known := kfuncs[name]
	if known && v.env.Kernel.HasKfunc(name) != nil {
		known = false
	}
	if st.locks > 0 && !(known && p.spinLockSafe && v.env.Kernel.SpinLockSafeArenaKfuncs) {
		return nil, v.fail(pc, syscall.EINVAL, "function calls are not allowed while holding a lock")
	}
	if !known {
		if err := v.env.Kernel.HasKfunc(name); err != nil && rel.Extern != nil && rel.Extern.Weak {
			// A weak kfunc this kernel lacks, reached: the kernel sees
			// the call libbpf poisoned ("invalid func unknown#...").
			return nil, v.fail(pc, syscall.EINVAL, err.Error())
		}
		if name == "" || (rel.Extern != nil && rel.Extern.Weak) {
			return nil, v.fail(pc, syscall.EINVAL, "invalid kernel function call not eliminated in verifier pass")
		}
		return nil, v.fail(pc, syscall.EACCES, fmt.Sprintf("calling kernel function %s is not allowed", name))
	}
	sleepable := p.sleepable && v.env.Kernel.PageKfuncsSleepableOnly
	if sleepable && !v.sleepable() {
		return nil, v.fail(pc, syscall.EACCES, "program must be sleepable to call sleepable kfunc "+name)
	}
	if !v.sleepable() || st.rcu > 0 || st.preempt > 0 || st.irq > 0 || st.locks > 0 {
		v.nonSleepable[pc] = true
	}
	if sleepable {
		region := ""
		switch {
		case st.rcu > 0:
			region = "rcu_read_lock region"
		case st.preempt > 0:
			region = "non-preemptible region"
		case st.irq > 0:
			region = "IRQ-disabled region"
		}
		if region != "" {
			return nil, v.fail(pc, syscall.EACCES, "kernel func "+name+" is sleepable within "+region)
		}
	}
	args, err := v.checkArgs(pc, st, p)
	if err != nil {
		return nil, err
	}
	if err := v.sections(pc, st, name); err != nil {
		return nil, err
	}
	if err := v.iterator(pc, st, name, args[0]); err != nil {
		return nil, err
	}
	var r0 value
	switch p.ret {
	case retScalar:
		// Including bpf_arena_alloc_pages: a kfunc returning void * (the
		// arena address space is not a type) returns a number.
		r0 = v.anyScalar()
	case retVoid:
		r0 = notInit()
	case retIntOrNull:
		v.nextID++
		r0 = value{k: kMem, null: true, offOK: true, size: 4, id: v.nextID}
	}
	v.clobber(st, r0)
	return one(pc+1, st), nil
}

// subprogCall handles a call to a function of the program: a global one
// is checked against its declared arguments and assumed to return a
// number (it is verified on its own); a static one is walked in the
// caller's context.
func (v *verifier) subprogCall(pc int, st *state, ins asm.Instruction) ([]item, error) {
	t := v.target(pc)
	if f := v.funcs[t]; f != nil && f.Global {
		if st.locks > 0 {
			v.log.WriteString("global function calls are not allowed while holding a lock\n")
			e := v.fail(pc, syscall.EINVAL, "use static function instead")
			e.Msg = "global function calls are not allowed while holding a lock"
			return nil, e
		}
		if err := v.checkGlobalArgs(pc, st, t, f); err != nil {
			return nil, err
		}
		fmt.Fprintf(&v.log, "Func#%d ('%s') is global and assumed valid.\n", v.subprogIndex(t), f.Name)
		if !v.globalDone[t] {
			v.globalDone[t] = true
			v.globals = append(v.globals, t)
		}
		v.clobber(st, v.anyScalar())
		return one(pc+1, st), nil
	}
	if len(st.frames) >= maxFrames {
		return nil, v.fail(pc, syscall.E2BIG, fmt.Sprintf("the call stack of %d frames is too deep !", len(st.frames)+1))
	}
	caller := st.cur()
	f := newFrame(pc, t, caller.key)
	for r := asm.R1; r <= asm.R5; r++ {
		f.regs[r] = caller.regs[r]
	}
	f.regs[10] = value{k: kStack, offOK: true, frame: int8(len(st.frames))}
	st.frames = append(st.frames, f)
	if _, ok := v.chains[f.key]; !ok {
		var chain []int
		for _, g := range st.frames {
			if g.callback {
				// Callbacks run from the helper, not below the caller.
				chain = nil
				break
			}
			chain = append(chain, g.subprog)
		}
		if chain != nil {
			v.chains[f.key] = chain
		}
	}
	return one(t, st), nil
}

// params is the parameter list of function f from BTF, nil if unknown.
func params(f *object.Func) []btf.FuncParam {
	if f == nil || f.Type == nil {
		return nil
	}
	fp, ok := f.Type.Type.(*btf.FuncProto)
	if !ok {
		return nil
	}
	return fp.Params
}

// returnsScalar reports whether function f returns an integer, an enum
// or, where the kernel reads type tags (typeTags), a pointer into the arena
// (type tag "arena"): the only global functions the kernel supports
// (unknown without BTF: assumed so). The caller gets an unknown scalar in
// every case.
func returnsScalar(f *object.Func, typeTags bool) bool {
	if f == nil || f.Type == nil {
		return true
	}
	fp, ok := f.Type.Type.(*btf.FuncProto)
	if !ok {
		return true
	}
	if typeTags && object.IsArenaPointer(fp.Return) {
		return true
	}
	switch btf.UnderlyingType(fp.Return).(type) {
	case *btf.Int, *btf.Enum:
		return true
	}
	return false
}

// isArenaArg reports whether argument i of f is tagged arg:arena, or on a
// kernel that reads type tags points to a type tagged "arena".
func (v *verifier) isArenaArg(f *object.Func, i int) bool {
	if f == nil {
		return false
	}
	if i < len(f.ArenaArgs) && f.ArenaArgs[i] {
		return true
	}
	if !v.env.Kernel.ArenaTypeTags {
		return false
	}
	ps := params(f)
	return i < len(ps) && object.IsArenaPointer(ps[i].Type)
}

// pointee is the type a pointer parameter points to, nil if the parameter
// is not a pointer.
func pointee(p btf.FuncParam) btf.Type {
	ptr, ok := btf.UnderlyingType(p.Type).(*btf.Pointer)
	if !ok {
		return nil
	}
	return btf.UnderlyingType(ptr.Target)
}

// ctxTypes are the context structs a global function may take.
var ctxTypes = map[string]bool{
	"__sk_buff": true, "xdp_md": true, "pt_regs": true, "bpf_perf_event_data": true,
	"bpf_raw_tracepoint_args": true, "bpf_sock": true, "bpf_sock_addr": true, "bpf_sock_ops": true,
	"sk_msg_md": true, "sk_reuseport_md": true, "bpf_sockopt": true, "bpf_sysctl": true, "bpf_nf_ctx": true,
}

func isCtxType(t btf.Type) bool {
	if s, ok := t.(*btf.Struct); ok {
		return ctxTypes[s.Name]
	}
	return false
}

// checkGlobalArgs checks what a caller passes to global function f.
func (v *verifier) checkGlobalArgs(pc int, st *state, t int, f *object.Func) error {
	ps := params(f)
	n := len(ps)
	if n == 0 {
		n = len(f.ArenaArgs)
	}
	var msg string
	if !returnsScalar(f, v.env.Kernel.ArenaTypeTags) {
		msg = "Global function " + f.Name + "() doesn't return scalar. Only those are supported."
	}
	for i := 0; i < n && i < 5 && msg == ""; i++ {
		r := asm.Register(i + 1)
		x := st.cur().regs[r]
		if x.has(kNotInit) {
			return v.fail(pc, syscall.EACCES, fmt.Sprintf("R%d !read_ok", r))
		}
		switch {
		case v.isArenaArg(f, i):
			if !x.arenaOrScalar() {
				msg = fmt.Sprintf("R%d is not a pointer to arena or scalar.", r)
			}
		case i >= len(ps):
		case pointee(ps[i]) == nil:
			if !x.is(kScalar) {
				msg = fmt.Sprintf("R%d is not a scalar", r)
			}
		case isCtxType(pointee(ps[i])):
			if !x.is(kCtx) {
				msg = fmt.Sprintf("arg#%d expects pointer to ctx", i)
			}
		default:
			// Memory the function may read, or NULL.
			if !(x.isZero() || x.single() && !x.null && x.k&(kStack|kPacket|kPacketMeta|kMapValue|kMem) != 0) {
				msg = fmt.Sprintf("R%d type=%s expected=fp", r, x.typeName())
			}
		}
	}
	if msg == "" {
		return nil
	}
	v.log.WriteString(msg + "\n")
	e := v.fail(pc, syscall.EINVAL, fmt.Sprintf("Caller passes invalid args into func#%d ('%s')", v.subprogIndex(t), f.Name))
	e.Msg = msg
	return e
}

// globalState is the state at the entry of global function pc, with its
// arguments typed from BTF.
func (v *verifier) globalState(pc int) (*state, error) {
	f := v.funcs[pc]
	fr := newFrame(-1, pc, "g")
	fr.regs[10] = value{k: kStack, offOK: true}
	ps := params(f)
	for i := 0; i < 5; i++ {
		r := i + 1
		switch {
		case v.isArenaArg(f, i):
			fr.regs[r] = value{k: kArena}
		case i >= len(ps):
		case pointee(ps[i]) == nil:
			fr.regs[r] = v.anyScalar()
		case isCtxType(pointee(ps[i])):
			fr.regs[r] = value{k: kCtx, offOK: true}
		default:
			v.nextID++
			x := value{k: kMem, null: true, offOK: true, id: v.nextID}
			if sz, err := btf.Sizeof(pointee(ps[i])); err == nil {
				x.size = int64(sz)
			}
			fr.regs[r] = x
		}
	}
	return &state{frames: []*frame{fr}}, nil
}

// sleepable reports whether the program may sleep: marked so, or a
// syscall program, which libbpf (and the kernel engine) always loads
// sleepable.
func (v *verifier) sleepable() bool {
	return v.prog.Sleepable || v.prog.Type == object.Syscall
}

// sections follows the critical sections the kfunc name opens or closes.
func (v *verifier) sections(pc int, st *state, name string) error {
	unmatched := func(what string) error {
		return v.fail(pc, syscall.EINVAL, what+" (kernel function "+name+")")
	}
	switch name {
	case "bpf_preempt_disable":
		st.preempt++
	case "bpf_preempt_enable":
		if st.preempt == 0 {
			return unmatched("unmatched attempt to enable preemption")
		}
		st.preempt--
	case "bpf_rcu_read_lock":
		if st.rcu > 0 {
			return unmatched("nested rcu read lock")
		}
		st.rcu++
	case "bpf_rcu_read_unlock":
		if st.rcu == 0 {
			return unmatched("unmatched rcu read unlock")
		}
		st.rcu--
	case "bpf_local_irq_save":
		st.irq++
	case "bpf_local_irq_restore":
		if st.irq == 0 {
			return v.fail(pc, syscall.EINVAL, "expected an initialized irq flag as arg#0")
		}
		st.irq--
	}
	// bpf_res_spin_lock holds the lock only where it returned 0, which
	// this pass does not follow: resilient locks are not tracked.
	return nil
}

// iterator follows the life of a bpf_iter_num on the stack: created by
// bpf_iter_num_new on a free slot, used and destroyed only while live.
func (v *verifier) iterator(pc int, st *state, name string, it value) error {
	var live bool
	switch name {
	case "bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy":
		live = st.frames[it.frame].slotRead(it.off).b[0] == byteIter
	default:
		return nil
	}
	o := it.off
	if o < -maxStack || o+8 > 0 || o%8 != 0 {
		return v.fail(pc, syscall.EINVAL, "arg#0 expected pointer to an iterator on stack")
	}
	f := st.frames[it.frame]
	v.useStack(f, o)
	switch name {
	case "bpf_iter_num_new":
		if live {
			return v.fail(pc, syscall.EINVAL, "expected uninitialized iter_num as arg #0")
		}
		s := f.slotAt(o)
		*s = slot{}
		for i := range s.b {
			s.b[i] = byteIter
		}
		st.iters++
	case "bpf_iter_num_next":
		if !live {
			return v.fail(pc, syscall.EINVAL, "expected an initialized iter_num as arg #0")
		}
	case "bpf_iter_num_destroy":
		if !live {
			return v.fail(pc, syscall.EINVAL, "expected an initialized iter_num as arg #0")
		}
		*f.slotAt(o) = slot{}
		st.iters--
	}
	return nil
}

// mapFuncCompatible is the kernel's rule of which helpers take which maps:
// a program array only bpf_tail_call, a map-in-map only lookups, and
// bpf_tail_call only a program array. The message is the kernel's.
func mapFuncCompatible(id int32, mp *object.MapSpec, k *kversion.Model) error {
	if mp == nil {
		return nil
	}
	if id == 12 && mp.Type != object.ProgArray && k.TailCallNotProgArray != "" {
		// Checked before the map's compatibility with the helper.
		return errors.New(k.TailCallNotProgArray)
	}
	ok := true
	switch mp.Type {
	case object.ProgArray:
		ok = id == 12
	case object.ArrayOfMaps, object.HashOfMaps:
		ok = id == 1
	}
	if id == 12 && mp.Type != object.ProgArray {
		// Linux 7.3's wording; 6.12 says "kernel subsystem
		// misconfigured verifier".
		return errors.New("expected prog array map for tail call")
	}
	if ok {
		return nil
	}
	return fmt.Errorf("cannot pass map_type %d into func %s#%d", mp.Type, asm.HelperName(id), id)
}
