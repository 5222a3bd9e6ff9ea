package vm

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// kfuncs are the kernel functions the vm provides, by name.
var kfuncs map[string]helperFunc

func init() {
	noop := func(*machine, uint64, uint64, uint64, uint64, uint64, int) (uint64, error) { return 0, nil }
	kfuncs = map[string]helperFunc{
		"bpf_arena_alloc_pages":          kfArenaAlloc,
		"bpf_arena_free_pages":           kfArenaFree,
		"bpf_arena_reserve_pages":        kfArenaReserve,
		"bpf_iter_num_new":               kfIterNumNew,
		"bpf_iter_num_next":              kfIterNumNext,
		"bpf_iter_num_destroy":           kfIterNumDestroy,
		"bpf_preempt_disable":            noop,
		"bpf_preempt_enable":             noop,
		"bpf_rcu_read_lock":              noop,
		"bpf_rcu_read_unlock":            noop,
		"bpf_local_irq_save":             kfIrqSave,
		"bpf_local_irq_restore":          noop,
		"bpf_res_spin_lock":              kfResLock,
		"bpf_res_spin_unlock":            kfResUnlock,
		"bpf_res_spin_lock_irqsave":      kfResLockIrq,
		"bpf_res_spin_unlock_irqrestore": kfResUnlockIrq,
		"bpf_stream_vprintk":             kfStreamPrintk,
		"bpf_stream_vprintk_impl":        kfStreamPrintk,
	}
}

// arenaArg checks that a kfunc's map argument is the arena.
func (m *machine) arenaArg(h uint64) *vmArena {
	if m.c.arena == nil || h != m.c.arenaHandle {
		return nil
	}
	return m.c.arena
}

func kfArenaAlloc(m *machine, h, addr, cnt, node, flags uint64, _ int) (uint64, error) {
	ar := m.arenaArg(h)
	if ar == nil || !numaNodeOK(int32(node)) {
		return 0, nil
	}
	return ar.allocPages(addr, uint32(cnt), flags), nil
}

func kfArenaFree(m *machine, h, addr, cnt, _, _ uint64, _ int) (uint64, error) {
	if ar := m.arenaArg(h); ar != nil {
		ar.freePages(addr, uint32(cnt))
	}
	return 0, nil
}

// kfArenaFreeDeferred is bpf_arena_free_pages called outside a sleepable
// context on a kernel that defers such frees: the pages stay present
// until the program returns.
func kfArenaFreeDeferred(m *machine, h, addr, cnt, _, _ uint64, _ int) (uint64, error) {
	if m.arenaArg(h) != nil {
		m.deferred = append(m.deferred, deferredFree{addr, uint32(cnt)})
	}
	return 0, nil
}

func kfArenaReserve(m *machine, h, addr, cnt, _, _ uint64, _ int) (uint64, error) {
	ar := m.arenaArg(h)
	if ar == nil {
		if uint32(cnt) == 0 {
			return 0, nil
		}
		return negErrno(eINVAL), nil
	}
	return uint64(ar.reservePages(addr, uint32(cnt))), nil
}

// The numbers iterator keeps {int cur; int end} in the program's 8-byte
// struct bpf_iter_num.
func kfIterNumNew(m *machine, it, start, end, _, _ uint64, _ int) (uint64, error) {
	b, err := m.mem(it, 8, true)
	if err != nil {
		return 0, err
	}
	s, e := int32(start), int32(end)
	if s > e {
		clear(b)
		return negErrno(eINVAL), nil
	}
	if int64(e)-int64(s) > maxBPFLoops {
		clear(b)
		return negErrno(eE2BIG), nil
	}
	*(*int32)(unsafe.Pointer(&b[0])) = s - 1
	*(*int32)(unsafe.Pointer(&b[4])) = e
	return 0, nil
}

func kfIterNumNext(m *machine, it, _, _, _, _ uint64, _ int) (uint64, error) {
	b, err := m.mem(it, 8, true)
	if err != nil {
		return 0, err
	}
	cur := (*int32)(unsafe.Pointer(&b[0]))
	end := (*int32)(unsafe.Pointer(&b[4]))
	if int64(*cur)+1 >= int64(*end) {
		*cur, *end = 0, 0
		return 0, nil
	}
	*cur++
	return it, nil
}

func kfIterNumDestroy(m *machine, it, _, _, _, _ uint64, _ int) (uint64, error) {
	b, err := m.mem(it, 8, true)
	if err != nil {
		return 0, err
	}
	clear(b)
	return 0, nil
}

func kfIrqSave(m *machine, flags, _, _, _, _ uint64, _ int) (uint64, error) {
	b, err := m.mem(flags, 8, true)
	if err != nil {
		return 0, err
	}
	clear(b)
	return 0, nil
}

// Resilient spin lock: a 4-byte word, 0 when free. Like the kernel's
// rqspinlock it gives up instead of deadlocking: -EDEADLK when this run
// already holds the lock, -ETIMEDOUT after a quarter second.
const (
	resTimeout = time.Second / 4
)

func (m *machine) lockWord(a uint64) (*uint32, error) {
	if a%4 != 0 {
		return nil, fmt.Errorf("misaligned lock at %#x", a)
	}
	if ar := m.c.arena; ar != nil && a >= ar.start && a-ar.start < ar.size {
		off := a - ar.start
		if !ar.Present(uint32(off >> pageShift)) {
			return nil, fmt.Errorf("lock at %#x is on an absent arena page", a)
		}
		return (*uint32)(unsafe.Pointer(&ar.mem[off])), nil
	}
	b, err := m.mem(a, 4, true)
	if err != nil {
		return nil, err
	}
	return (*uint32)(unsafe.Pointer(&b[0])), nil
}

func kfResLock(m *machine, lock, _, _, _, _ uint64, _ int) (uint64, error) {
	p, err := m.lockWord(lock)
	if err != nil {
		return 0, err
	}
	for _, h := range m.held {
		if h == lock {
			return negErrno(syscall.EDEADLK), nil
		}
	}
	var deadline time.Time
	for spins := 0; !atomic.CompareAndSwapUint32(p, 0, 1); spins++ {
		if spins&63 == 63 {
			if deadline.IsZero() {
				deadline = time.Now().Add(resTimeout)
			} else if time.Now().After(deadline) {
				return negErrno(syscall.ETIMEDOUT), nil
			}
			runtime.Gosched()
		}
	}
	m.held = append(m.held, lock)
	return 0, nil
}

func kfResUnlock(m *machine, lock, _, _, _, _ uint64, _ int) (uint64, error) {
	p, err := m.lockWord(lock)
	if err != nil {
		return 0, err
	}
	for i, h := range m.held {
		if h == lock {
			m.held = append(m.held[:i], m.held[i+1:]...)
			break
		}
	}
	atomic.StoreUint32(p, 0)
	return 0, nil
}

func kfResLockIrq(m *machine, lock, flags, _, _, _ uint64, d int) (uint64, error) {
	if _, err := kfIrqSave(m, flags, 0, 0, 0, 0, d); err != nil {
		return 0, err
	}
	return kfResLock(m, lock, 0, 0, 0, 0, d)
}

func kfResUnlockIrq(m *machine, lock, _, _, _, _ uint64, d int) (uint64, error) {
	return kfResUnlock(m, lock, 0, 0, 0, 0, d)
}

// kfStreamPrintk is bpf_stream_vprintk: args is an array of u64 values,
// len its size in bytes. Both streams go to the run's output.
func kfStreamPrintk(m *machine, stream, fmtp, args, n, _ uint64, _ int) (uint64, error) {
	f, err := m.cstring(fmtp, 1024)
	if err != nil {
		return 0, err
	}
	var vals []uint64
	if n%8 != 0 || n > 8*12 {
		return negErrno(eINVAL), nil
	}
	if n > 0 {
		b, err := m.mem(args, n, false)
		if err != nil {
			return 0, err
		}
		for i := uint64(0); i < n; i += 8 {
			vals = append(vals, *(*uint64)(unsafe.Pointer(&b[i])))
		}
	}
	s, err := m.format(f, vals)
	if err != nil {
		return negErrno(eINVAL), nil
	}
	m.output = append(m.output, s...)
	return 0, nil
}

// numaNoNode is NUMA_NO_NODE: any node.
const numaNoNode = -1

var (
	numaOnce  sync.Once
	numaNodes map[int32]bool
)

// numaNodeOK reports whether bpf_arena_alloc_pages accepts node: the
// kernel gives NULL for a node that is not online. The vm takes the host's
// online nodes where it can read them, else node 0 alone.
func numaNodeOK(node int32) bool {
	if node == numaNoNode {
		return true
	}
	numaOnce.Do(func() {
		numaNodes = map[int32]bool{0: true}
		b, err := os.ReadFile("/sys/devices/system/node/online")
		if err != nil {
			return
		}
		nodes := map[int32]bool{}
		for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
			lo, hi, isRange := strings.Cut(part, "-")
			a, err1 := strconv.Atoi(lo)
			z := a
			var err2 error
			if isRange {
				z, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || z < a || z-a > 1<<16 {
				return
			}
			for n := a; n <= z; n++ {
				nodes[int32(n)] = true
			}
		}
		if len(nodes) > 0 {
			numaNodes = nodes
		}
	})
	return numaNodes[node]
}
