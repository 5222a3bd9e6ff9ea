package vm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
	"golang.org/x/sys/unix"
)

// A pin directory holds what several processes share of one loaded
// object: the arena's memory (a sparse file mapped MAP_SHARED at the same
// address in every process), its control block (page states, the free
// range tree, a lock and a journal) and the memory of array and global
// data maps. meta.json records the geometry the first load chose, so a
// later load can check it is the same object and map the arena where the
// pointers stored in it point.
const (
	pinMeta    = "meta.json"
	pinLock    = ".lock"
	pinArena   = "arena"
	pinControl = "arena.ctl"
	pinMapPre  = "map."
	pinVersion = 1
	ctlMagic   = 0x6270666172656e61 // "bpfarena"
)

type pinMapMeta struct {
	Name       string `json:"name"`
	Type       uint32 `json:"type"`
	KeySize    uint32 `json:"key_size"`
	ValueSize  uint32 `json:"value_size"`
	MaxEntries uint32 `json:"max_entries"`
	Flags      uint32 `json:"flags"`
	MapExtra   uint64 `json:"map_extra"`
}

type pinMetaFile struct {
	Version    int          `json:"version"`
	ArenaStart uint64       `json:"arena_start,omitempty"`
	Maps       []pinMapMeta `json:"maps"`
}

// pinDir is an open pin directory, locked (flock) while a load sets up.
type pinDir struct {
	path    string
	lockFD  int
	created bool // the directory was empty: this load creates everything
	meta    pinMetaFile
}

func metaOf(spec *object.Spec) pinMetaFile {
	m := pinMetaFile{Version: pinVersion}
	for _, ms := range spec.Maps {
		m.Maps = append(m.Maps, pinMapMeta{Name: ms.Name, Type: uint32(ms.Type), KeySize: ms.KeySize,
			ValueSize: ms.ValueSize, MaxEntries: ms.MaxEntries, Flags: ms.Flags, MapExtra: ms.MapExtra})
	}
	return m
}

// openPin opens (creating it if needed) the pin directory for spec and
// checks that what is pinned there was made from the same maps.
func openPin(path string, spec *object.Spec) (*pinDir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("pin directory: %w", err)
	}
	fd, err := unix.Open(filepath.Join(path, pinLock), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pin directory %s: %w", path, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("pin directory %s: lock: %w", path, err)
	}
	p := &pinDir{path: path, lockFD: fd}
	b, err := os.ReadFile(filepath.Join(path, pinMeta))
	switch {
	case errors.Is(err, os.ErrNotExist):
		p.created = true
		p.meta = metaOf(spec)
		return p, nil
	case err != nil:
		p.release()
		return nil, fmt.Errorf("pin directory %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &p.meta); err != nil || p.meta.Version != pinVersion {
		p.release()
		return nil, fmt.Errorf("pin directory %s: %s is not a version %d record (%v): %w", path, pinMeta, pinVersion, err, engine.ErrPinMismatch)
	}
	if err := p.check(spec); err != nil {
		p.release()
		return nil, err
	}
	return p, nil
}

// check compares the pinned maps with spec's, as a reuse of pinned maps
// must: type, key and value size, max_entries, flags and map_extra.
func (p *pinDir) check(spec *object.Spec) error {
	want := metaOf(spec).Maps
	have := map[string]pinMapMeta{}
	for _, m := range p.meta.Maps {
		have[m.Name] = m
	}
	if len(have) != len(want) {
		return fmt.Errorf("pin directory %s holds %d maps, %s has %d: %w", p.path, len(have), spec.Path, len(want), engine.ErrPinMismatch)
	}
	for _, w := range want {
		h, ok := have[w.Name]
		switch {
		case !ok:
			return fmt.Errorf("pin directory %s has no map %s: %w", p.path, w.Name, engine.ErrPinMismatch)
		case h != w:
			return fmt.Errorf("pin directory %s: map %s is pinned as type %d key %d value %d max_entries %d flags %#x map_extra %#x, the object has type %d key %d value %d max_entries %d flags %#x map_extra %#x: %w",
				p.path, w.Name, h.Type, h.KeySize, h.ValueSize, h.MaxEntries, h.Flags, h.MapExtra,
				w.Type, w.KeySize, w.ValueSize, w.MaxEntries, w.Flags, w.MapExtra, engine.ErrPinMismatch)
		}
	}
	return nil
}

// finish records the geometry once a creating load has succeeded; the
// record is what makes the directory's files valid for later loads.
func (p *pinDir) finish() error {
	defer p.release()
	if !p.created {
		return nil
	}
	b, err := json.MarshalIndent(p.meta, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(p.path, pinMeta+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("pin directory %s: %w", p.path, err)
	}
	return os.Rename(tmp, filepath.Join(p.path, pinMeta))
}

func (p *pinDir) release() {
	if p.lockFD >= 0 {
		unix.Close(p.lockFD) // drops the flock
		p.lockFD = -1
	}
}

// file opens (creating it, sparse, on a creating load) a file of size
// bytes in the directory and maps it shared: at addr exactly if addr is
// not 0, else anywhere.
func (p *pinDir) file(name string, size uint64, addr uint64) ([]byte, int, error) {
	path := filepath.Join(p.path, name)
	flags := unix.O_RDWR | unix.O_CLOEXEC
	if p.created {
		flags |= unix.O_CREAT | unix.O_TRUNC
	}
	fd, err := unix.Open(path, flags, 0o600)
	if err != nil {
		return nil, -1, fmt.Errorf("pin file %s: %w", path, err)
	}
	if p.created {
		err = unix.Ftruncate(fd, int64(size))
	} else {
		var st unix.Stat_t
		if err = unix.Fstat(fd, &st); err == nil && uint64(st.Size) != size {
			err = fmt.Errorf("is %d bytes, want %d: %w", st.Size, size, engine.ErrPinMismatch)
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, -1, fmt.Errorf("pin file %s: %w", path, err)
	}
	const prot = unix.PROT_READ | unix.PROT_WRITE
	mflags := unix.MAP_SHARED
	var hint unsafe.Pointer
	if addr != 0 {
		mflags |= unix.MAP_FIXED
		hint = *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	}
	ptr, err := unix.MmapPtr(fd, 0, hint, uintptr(size), prot, mflags)
	if err != nil {
		unix.Close(fd)
		return nil, -1, fmt.Errorf("pin file %s: map: %w", path, err)
	}
	return unsafe.Slice((*byte)(ptr), size), fd, nil
}

// mapPinnedArena maps the arena file: on a creating load at an address
// picked as for a private arena (and recorded), else exactly where the
// first load put it.
func (p *pinDir) mapPinnedArena(spec *object.MapSpec, size uint64) ([]byte, int, error) {
	want := p.meta.ArenaStart
	if p.created {
		// Reserve a suitable range, then put the file mapping over it.
		// Without map_extra, pick it far from where processes map
		// things themselves (mmap grows down from near the stack), so
		// that later processes find the same range free.
		var res []byte
		var err error
		if spec.MapExtra == 0 {
			res, err = mapSharedRange(size)
		} else {
			res, err = mapArena(spec.MapExtra, size)
		}
		if err != nil {
			return nil, -1, err
		}
		want = addrOf(res)
	} else {
		res, err := mmapAt(want, size, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
		if err != nil {
			return nil, -1, fmt.Errorf("the pinned arena lives at %#x, which this process already uses: %w", want, err)
		}
		_ = res
	}
	mem, fd, err := p.file(pinArena, size, want)
	if err != nil {
		unmapArena(unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&want))), size))
		return nil, -1, err
	}
	p.meta.ArenaStart = want
	return mem, fd, nil
}

// mapSharedRange reserves size bytes at a 4 GiB-aligned address between
// 32 and 96 TiB, chosen at random, where neither Go's heap nor the
// mappings of a typical process lie.
func mapSharedRange(size uint64) ([]byte, error) {
	const flags = unix.MAP_PRIVATE | unix.MAP_ANON | unix.MAP_NORESERVE
	var lastErr error
	for range 64 {
		addr := uint64(32<<40) + uint64(rand.Uint32N(64<<8))<<32
		b, err := mmapAt(addr, size, unix.PROT_READ|unix.PROT_WRITE, flags)
		if err == nil {
			return b, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("no free 4 GiB-aligned range for a shared arena: %w", lastErr)
}

// ctlHeader is the start of the control block, shared by every process.
type ctlHeader struct {
	magic  uint64
	lock   uint32 // pid of the process holding the lock, 0 if free
	active uint32 // which tree buffer holds the committed free ranges
	gen    uint64 // bumped on every commit
	// The journal: the operation the lock holder is doing.
	jOp    uint32
	_      uint32
	jAddr  uint64
	jCount uint64
	jGen   uint64 // gen when the operation began: unchanged if it never committed
}

// sharedArena is a pinned arena's view of its control block.
type sharedArena struct {
	fd    int // the arena file
	ctl   []byte
	ctlFD int
	hdr   *ctlHeader
	bufs  [2][]byte
	maxN  int    // nodes a tree buffer holds
	gen   uint64 // generation this process's tree reflects
	pid   uint32
}

// Control block layout: header page, page states, two tree buffers of
// (count u64, seq u64, then count nodes of start u32, last u32, seq u64).
func ctlLayout(pages uint32) (stateOff, bufOff, bufSize, total uint64, maxN int) {
	stateOff = pageSize
	stateSize := (uint64(pages)*4 + pageSize - 1) &^ (pageSize - 1)
	maxN = int(pages/2 + 2) // free ranges are never adjacent
	bufSize = (16 + uint64(maxN)*16 + pageSize - 1) &^ (pageSize - 1)
	bufOff = stateOff + stateSize
	return stateOff, bufOff, bufSize, bufOff + 2*bufSize, maxN
}

// attachShared maps the control block of a pinned arena and points a's
// page states into it. On a creating load the caller initialises the free
// ranges and commits them; otherwise they are read from the block.
func (p *pinDir) attachShared(a *vmArena, fd int) error {
	stateOff, bufOff, bufSize, total, maxN := ctlLayout(a.pages)
	ctl, cfd, err := p.file(pinControl, total, 0)
	if err != nil {
		return err
	}
	sh := &sharedArena{fd: fd, ctl: ctl, ctlFD: cfd, maxN: maxN, pid: uint32(os.Getpid())}
	sh.hdr = (*ctlHeader)(unsafe.Pointer(&ctl[0]))
	sh.bufs[0] = ctl[bufOff : bufOff+bufSize]
	sh.bufs[1] = ctl[bufOff+bufSize : bufOff+2*bufSize]
	a.state = unsafe.Slice((*uint32)(unsafe.Pointer(&ctl[stateOff])), a.pages)
	if p.created {
		sh.hdr.magic = ctlMagic
	} else if atomic.LoadUint64(&sh.hdr.magic) != ctlMagic {
		sh.close()
		return fmt.Errorf("pin directory %s: %s is not an arena control block: %w", p.path, pinControl, engine.ErrPinMismatch)
	}
	a.sh = sh
	return nil
}

func (sh *sharedArena) close() {
	unmapArena(sh.ctl)
	unix.Close(sh.ctlFD)
	if sh.fd >= 0 {
		unix.Close(sh.fd)
	}
}

// acquire takes the cross-process lock. A holder that has died (its pid
// is gone) is replaced, and the operation its journal names is finished
// first. Then the tree is reloaded if another process changed it.
func (sh *sharedArena) acquire(a *vmArena) {
	for spins := 0; ; spins++ {
		if atomic.CompareAndSwapUint32(&sh.hdr.lock, 0, sh.pid) {
			break
		}
		if spins&1023 == 1023 {
			if owner := atomic.LoadUint32(&sh.hdr.lock); owner != 0 && owner != sh.pid &&
				unix.Kill(int(owner), 0) == syscall.ESRCH &&
				atomic.CompareAndSwapUint32(&sh.hdr.lock, owner, sh.pid) {
				sh.load(a)
				// An operation that committed its tree before its
				// process died needs nothing more.
				if op := atomic.LoadUint32(&sh.hdr.jOp); op != opNone && sh.hdr.jGen == atomic.LoadUint64(&sh.hdr.gen) {
					a.redo(op, sh.hdr.jAddr, sh.hdr.jCount)
					sh.store(a)
				}
				atomic.StoreUint32(&sh.hdr.jOp, opNone)
				break
			}
		}
		runtime.Gosched()
	}
	sh.load(a)
}

// begin notes the operation about to run.
func (sh *sharedArena) begin(op uint32, addr, count uint64) {
	sh.hdr.jAddr, sh.hdr.jCount = addr, count
	sh.hdr.jGen = atomic.LoadUint64(&sh.hdr.gen)
	atomic.StoreUint32(&sh.hdr.jOp, op)
}

// commit publishes the tree, clears the journal and releases the lock.
func (sh *sharedArena) commit(a *vmArena) {
	sh.store(a)
	atomic.StoreUint32(&sh.hdr.jOp, opNone)
	atomic.StoreUint32(&sh.hdr.lock, 0)
}

// load reads the committed tree if it changed since this process last
// saw it.
func (sh *sharedArena) load(a *vmArena) {
	gen := atomic.LoadUint64(&sh.hdr.gen)
	if gen == sh.gen && gen != 0 {
		return
	}
	b := sh.bufs[atomic.LoadUint32(&sh.hdr.active)&1]
	n := *(*uint64)(unsafe.Pointer(&b[0]))
	a.free.seq = *(*uint64)(unsafe.Pointer(&b[8]))
	a.free.nodes = a.free.nodes[:0]
	for i := uint64(0); i < n && i < uint64(sh.maxN); i++ {
		o := 16 + i*16
		a.free.nodes = append(a.free.nodes, rangeNode{
			start: *(*uint32)(unsafe.Pointer(&b[o])),
			last:  *(*uint32)(unsafe.Pointer(&b[o+4])),
			seq:   *(*uint64)(unsafe.Pointer(&b[o+8])),
		})
	}
	sh.gen = gen
}

// store writes the tree to the buffer not in use and then switches to it,
// so a process dying halfway leaves the previous tree intact.
func (sh *sharedArena) store(a *vmArena) {
	next := (atomic.LoadUint32(&sh.hdr.active) + 1) & 1
	b := sh.bufs[next]
	*(*uint64)(unsafe.Pointer(&b[0])) = uint64(len(a.free.nodes))
	*(*uint64)(unsafe.Pointer(&b[8])) = a.free.seq
	for i, nd := range a.free.nodes {
		o := 16 + uint64(i)*16
		*(*uint32)(unsafe.Pointer(&b[o])) = nd.start
		*(*uint32)(unsafe.Pointer(&b[o+4])) = nd.last
		*(*uint64)(unsafe.Pointer(&b[o+8])) = nd.seq
	}
	atomic.StoreUint32(&sh.hdr.active, next)
	sh.gen = atomic.AddUint64(&sh.hdr.gen, 1)
}

// punch zeroes pages [lo, hi) of the arena file for every process and
// gives their memory back.
func (sh *sharedArena) punch(mem []byte, lo, hi uint32) {
	off, n := int64(lo)*pageSize, int64(hi-lo)*pageSize
	if n == 0 {
		return
	}
	if err := unix.Fallocate(sh.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n); err != nil {
		clear(mem[off : off+n])
	}
}

// pinnable reports whether a map's memory can live in a pin directory on
// the vm: the arena and flat arrays (global data included). Hash maps,
// ring buffers and maps of references keep Go-side state.
func pinnable(ms *object.MapSpec) bool {
	switch ms.Type {
	case object.Arena, object.Array, object.PerCPUArray:
		return true
	}
	return ms.Type == 0 && isDataSection(ms.Section)
}

// backMap moves a map's values into a shared file of the directory; a
// creating load keeps the initial values, a later one finds the pinned
// ones.
func (p *pinDir) backMap(m *vmMap) (func(), error) {
	mem, fd, err := p.file(pinMapPre+m.name, uint64(len(m.slab)), 0)
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	if p.created {
		copy(mem, m.slab)
	}
	m.slab = mem
	return func() { unmapArena(mem) }, nil
}

// Unpin removes what a pin directory holds (not other files) and the
// directory if it is then empty. Processes that have the object loaded
// keep their mappings.
func Unpin(path string) error {
	if _, err := os.Stat(filepath.Join(path, pinMeta)); err != nil {
		return fmt.Errorf("unpin %s: not a pin directory: %w", path, err)
	}
	names, err := filepath.Glob(filepath.Join(path, pinMapPre+"*"))
	if err != nil {
		return err
	}
	for _, n := range []string{pinMeta, pinArena, pinControl, pinLock, pinMeta + ".tmp"} {
		names = append(names, filepath.Join(path, n))
	}
	var errs []error
	for _, n := range names {
		if err := os.Remove(n); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	_ = os.Remove(path)
	return errors.Join(errs...)
}
