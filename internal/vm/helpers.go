package vm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bpfarena/bpfarena/object"
)

// Helper ids (enum bpf_func_id).
const (
	helperMapLookup     = 1
	helperMapUpdate     = 2
	helperMapDelete     = 3
	helperTailCall      = 12
	helperKtimeGetNs    = 5
	helperTracePrintk   = 6
	helperPrandomU32    = 7
	helperSmpProcessor  = 8
	helperPidTgid       = 14
	helperNumaNode      = 42
	helperProbeReadUser = 112
	helperProbeReadKern = 113
	helperKtimeBootNs   = 125
	helperLoop          = 181
	helperSpinLock      = 93
	helperSpinUnlock    = 94
	helperJiffies64     = 118
	helperKtimeCoarseNs = 160
	helperLookupPercpu  = 195
	helperRingOutput    = 130
	helperRingReserve   = 131
	helperRingSubmit    = 132
	helperRingDiscard   = 133
	helperRingQuery     = 134
)

// maxBPFLoops is bpf_loop's limit on iterations (BPF_MAX_LOOPS).
const maxBPFLoops = 1 << 23

var helpers map[int32]helperFunc

func init() {
	// Initialised here rather than in the declaration because bpf_loop
	// re-enters the interpreter, which refers back to this table.
	helpers = map[int32]helperFunc{
		helperMapLookup:   bpfMapLookup,
		helperMapUpdate:   bpfMapUpdate,
		helperMapDelete:   bpfMapDelete,
		helperKtimeGetNs:  bpfKtime,
		helperKtimeBootNs: bpfKtime,
		helperTracePrintk: bpfTracePrintk,
		helperPrandomU32: func(*machine, uint64, uint64, uint64, uint64, uint64, int) (uint64, error) {
			return uint64(rand.Uint32()), nil
		},
		helperSmpProcessor:  func(m *machine, _, _, _, _, _ uint64, _ int) (uint64, error) { return uint64(m.cpu), nil },
		helperNumaNode:      func(*machine, uint64, uint64, uint64, uint64, uint64, int) (uint64, error) { return 0, nil },
		helperPidTgid:       bpfPidTgid,
		helperProbeReadUser: bpfProbeRead,
		helperProbeReadKern: bpfProbeRead,
		helperLoop:          bpfLoop,
		helperSpinLock:      bpfSpinLock,
		helperSpinUnlock:    bpfSpinUnlock,
		helperJiffies64:     bpfJiffies,
		helperKtimeCoarseNs: bpfKtime,
		helperLookupPercpu:  bpfLookupPercpu,
		helperRingOutput:    bpfRingOutput,
		helperRingReserve:   bpfRingReserve,
		helperRingSubmit:    bpfRingSubmit,
		helperRingDiscard:   bpfRingDiscard,
		helperRingQuery:     bpfRingQuery,
		helperTailCall:      bpfTailCall,
	}
}

var monoStart = time.Now()

func bpfKtime(*machine, uint64, uint64, uint64, uint64, uint64, int) (uint64, error) {
	return uint64(time.Since(monoStart)), nil
}

// jiffiesPerSecond is the HZ the vm reports through bpf_jiffies64.
const jiffiesPerSecond = 1000

func bpfJiffies(*machine, uint64, uint64, uint64, uint64, uint64, int) (uint64, error) {
	return uint64(time.Since(monoStart) / (time.Second / jiffiesPerSecond)), nil
}

// bpfSpinLock takes a bpf_spin_lock in a map value. The verifier already
// guarantees a program never holds two and always unlocks, so a plain
// spinning lock is enough.
func bpfSpinLock(m *machine, lock, _, _, _, _ uint64, _ int) (uint64, error) {
	p, err := m.lockWord(lock)
	if err != nil {
		return 0, err
	}
	for spins := 0; !atomic.CompareAndSwapUint32(p, 0, 1); spins++ {
		if spins&63 == 63 {
			runtime.Gosched()
		}
	}
	return 0, nil
}

func bpfSpinUnlock(m *machine, lock, _, _, _, _ uint64, _ int) (uint64, error) {
	p, err := m.lockWord(lock)
	if err != nil {
		return 0, err
	}
	atomic.StoreUint32(p, 0)
	return 0, nil
}

// bpfLookupPercpu is bpf_map_lookup_percpu_elem: another CPU's value.
func bpfLookupPercpu(m *machine, h, key, cpu, _, _ uint64, _ int) (uint64, error) {
	mp, err := m.mapArg(h)
	if err != nil {
		return 0, err
	}
	if !mp.percpu || cpu >= uint64(numCPU) {
		return 0, nil
	}
	k, err := m.mem(key, uint64(mp.keySize), false)
	if err != nil {
		return 0, err
	}
	return mp.lookupAddr(k, uint32(cpu)), nil
}

func bpfPidTgid(*machine, uint64, uint64, uint64, uint64, uint64, int) (uint64, error) {
	pid := uint64(os.Getpid())
	return pid<<32 | pid, nil
}

// mapArg resolves a map handle argument of the element helpers.
func (m *machine) mapArg(h uint64) (*vmMap, error) {
	mp, err := m.anyMapArg(h)
	if err == nil && mp.ring != nil {
		return nil, fmt.Errorf("map %s: element operations on a ring buffer", mp.name)
	}
	return mp, err
}

// anyMapArg resolves a map handle argument.
func (m *machine) anyMapArg(h uint64) (*vmMap, error) {
	i := (h - mapHandleBase) / handleStride
	if h < mapHandleBase || (h-mapHandleBase)%handleStride != 0 || i >= uint64(len(m.c.maps)) || m.c.maps[i] == nil {
		return nil, fmt.Errorf("%#x is not a map", h)
	}
	return m.c.maps[i], nil
}

func bpfMapLookup(m *machine, h, key, _, _, _ uint64, _ int) (uint64, error) {
	mp, err := m.mapArg(h)
	if err != nil {
		return 0, err
	}
	k, err := m.mem(key, uint64(mp.keySize), false)
	if err != nil {
		return 0, err
	}
	switch mp.typ {
	case object.ArrayOfMaps, object.HashOfMaps:
		return mp.lookupInner(k), nil
	case object.ProgArray:
		return 0, fmt.Errorf("map %s: lookup in a program array", mp.name)
	}
	return mp.lookupAddr(k, m.cpu), nil
}

func bpfMapUpdate(m *machine, h, key, val, flags, _ uint64, _ int) (uint64, error) {
	mp, err := m.mapArg(h)
	if err != nil {
		return 0, err
	}
	if mp.readOnly {
		return 0, fmt.Errorf("update of read-only map %s", mp.name)
	}
	if mp.holdsRefs() {
		return 0, fmt.Errorf("map %s: update of a %v from a program", mp.name, mp.typ)
	}
	k, err := m.mem(key, uint64(mp.keySize), false)
	if err != nil {
		return 0, err
	}
	v, err := m.mem(val, uint64(mp.valueSize), false)
	if err != nil {
		return 0, err
	}
	return negErrno(mp.update(k, v, flags, m.cpu, false)), nil
}

func bpfMapDelete(m *machine, h, key, _, _, _ uint64, _ int) (uint64, error) {
	mp, err := m.mapArg(h)
	if err != nil {
		return 0, err
	}
	if mp.holdsRefs() {
		return 0, fmt.Errorf("map %s: delete from a %v in a program", mp.name, mp.typ)
	}
	k, err := m.mem(key, uint64(mp.keySize), false)
	if err != nil {
		return 0, err
	}
	return negErrno(mp.delete(k)), nil
}

// bpfProbeRead copies from memory the program may reach; anything else
// reads as a failed probe (zeroed buffer, -EFAULT), as in the kernel.
func bpfProbeRead(m *machine, dst, n, src, _, _ uint64, _ int) (uint64, error) {
	d, err := m.mem(dst, n, true)
	if err != nil {
		return 0, err
	}
	s, err := m.mem(src, n, false)
	if err != nil {
		if ar := m.c.arena; ar != nil && src >= ar.start && src-ar.start < ar.size && ar.size-(src-ar.start) >= n {
			ok := true
			for a := src &^ (pageSize - 1); a < src+n; a += pageSize {
				if !ar.Present(uint32((a - ar.start) >> pageShift)) {
					ok = false
				}
			}
			if ok {
				copy(d, ar.mem[src-ar.start:src-ar.start+n])
				return 0, nil
			}
		}
		clear(d)
		return negErrno(syscall.EFAULT), nil
	}
	copy(d, s)
	return 0, nil
}

// bpfLoop is bpf_loop: it calls the callback up to nr times in a new frame.
func bpfLoop(m *machine, nr, cb, ctx, flags, _ uint64, depth int) (uint64, error) {
	if flags != 0 {
		return negErrno(eINVAL), nil
	}
	if nr > maxBPFLoops {
		return negErrno(eE2BIG), nil
	}
	idx := (cb - funcHandleBase) / handleStride
	if cb < funcHandleBase || (cb-funcHandleBase)%handleStride != 0 || idx >= uint64(len(m.p.raw)) {
		return 0, fmt.Errorf("bpf_loop: %#x is not a callback", cb)
	}
	nr32 := uint32(nr)
	for i := uint32(0); i < nr32; i++ {
		ret, err := m.call(int(idx), uint64(i), ctx, 0, 0, 0, depth+1)
		if err != nil {
			return 0, err
		}
		if ret != 0 {
			return uint64(i + 1), nil
		}
	}
	return uint64(nr32), nil
}

// bpfTracePrintk formats like bpf_trace_printk and appends to the output.
func bpfTracePrintk(m *machine, fmtp, size, a1, a2, a3 uint64, _ int) (uint64, error) {
	b, err := m.mem(fmtp, size, false)
	if err != nil {
		return 0, err
	}
	if n := strings.IndexByte(string(b), 0); n >= 0 {
		b = b[:n]
	} else {
		return negErrno(eINVAL), nil
	}
	s, err := m.format(string(b), []uint64{a1, a2, a3})
	if err != nil {
		return negErrno(eINVAL), nil
	}
	m.output = append(m.output, s...)
	return uint64(len(s)), nil
}

// format expands the printf subset the kernel's BPF printers accept:
// %d %i %u %x %X %c %s %p %%, with l/ll length, flags, width and precision.
func (m *machine) format(f string, args []uint64) (string, error) {
	var out strings.Builder
	ai := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			out.WriteByte(c)
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			out.WriteByte('%')
			continue
		}
		start := i
		for i < len(f) && strings.IndexByte("-+ 0#", f[i]) >= 0 {
			i++
		}
		for i < len(f) && (f[i] >= '0' && f[i] <= '9' || f[i] == '.') {
			i++
		}
		spec := f[start:i]
		long := 0
		for i < len(f) && f[i] == 'l' {
			long++
			i++
		}
		if i >= len(f) {
			return "", fmt.Errorf("truncated format")
		}
		if ai >= len(args) {
			return "", fmt.Errorf("too many conversions")
		}
		v := args[ai]
		ai++
		switch f[i] {
		case 'd', 'i':
			x := int64(v)
			if long == 0 {
				x = int64(int32(v))
			}
			out.WriteString(fmt.Sprintf("%"+spec+"d", x))
		case 'u':
			x := v
			if long == 0 {
				x = uint64(uint32(v))
			}
			out.WriteString(fmt.Sprintf("%"+spec+"d", x))
		case 'x', 'X':
			x := v
			if long == 0 {
				x = uint64(uint32(v))
			}
			out.WriteString(fmt.Sprintf("%"+spec+string(f[i]), x))
		case 'c':
			out.WriteByte(byte(v))
		case 'p':
			// %pK, %pS and friends take a suffix letter.
			if i+1 < len(f) && strings.IndexByte("KSsBiIhb", f[i+1]) >= 0 {
				i++
			}
			out.WriteString("0x" + strconv.FormatUint(v, 16))
		case 's':
			s, err := m.cstring(v, 1024)
			if err != nil {
				s = "(efault)"
			}
			out.WriteString(fmt.Sprintf("%"+spec+"s", s))
		default:
			return "", fmt.Errorf("unsupported conversion %q", f[i])
		}
	}
	return out.String(), nil
}

// negErrno is a helper's return value for an errno: its negation.
func negErrno(e syscall.Errno) uint64 {
	if e == 0 {
		return 0
	}
	return uint64(-int64(e))
}
