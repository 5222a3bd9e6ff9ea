//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/kconfig"
	"github.com/bpfarena/bpfarena/internal/sys"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// Load creates the object's maps and loads its programs into the running
// kernel. On any failure everything created so far is released.
func Load(spec *object.Spec, opts engine.Options) (_ engine.Collection, err error) {
	if spec == nil {
		return nil, errors.New("kernel: nil spec")
	}
	for _, name := range opts.Programs {
		if !slices.ContainsFunc(spec.Programs, func(p *object.ProgramSpec) bool { return p.Name == name }) {
			return nil, fmt.Errorf("kernel: program %q is not in %s", name, spec.Path)
		}
	}
	// An object without an arena needs only bpf(2): it loads where the
	// kernel refuses arenas.
	needArena := slices.ContainsFunc(spec.Maps, func(m *object.MapSpec) bool { return m.IsArena() })
	if err := probeFor(needArena); err != nil {
		return nil, err
	}
	c := &collection{
		maps:  make(map[*object.MapSpec]*kmap),
		progs: make(map[string]*program),
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if err := c.loadBTF(spec); err != nil {
		return nil, err
	}
	// Resolve every kernel function and variable the load needs in one
	// scan of the kernel's BTF.
	var funcs, vars []string
	for _, e := range spec.Externs {
		switch e.Kind {
		case object.ExternKfunc:
			funcs = append(funcs, e.Name)
		case object.ExternKsym:
			vars = append(vars, e.Name)
		}
	}
	if slices.ContainsFunc(spec.Maps, (*object.MapSpec).IsArena) {
		funcs = append(funcs, kfuncAlloc, kfuncFree, kfuncReserve)
	}
	if err := prefetchKernelSyms(idxFunc, funcs...); err != nil {
		return nil, err
	}
	if err := prefetchKernelSyms(idxVar, vars...); err != nil {
		return nil, err
	}
	if opts.PinPath != "" {
		if err := openPinDir(opts.PinPath); err != nil {
			return nil, err
		}
		c.pinDir = opts.PinPath
	}
	if err := c.createMaps(spec); err != nil {
		return nil, err
	}
	for _, ps := range spec.Programs {
		if opts.Programs != nil && !slices.Contains(opts.Programs, ps.Name) {
			continue
		}
		if err := c.loadProgram(spec, ps, opts); err != nil {
			return nil, err
		}
	}
	if err := c.fillSlots(spec); err != nil {
		return nil, err
	}
	return c, nil
}

// fillSlots puts the static initial entries of program arrays and
// map-in-maps in place (descriptors of the loaded programs and created
// maps), as libbpf does once the programs are loaded.
func (c *collection) fillSlots(spec *object.Spec) error {
	for _, m := range spec.Maps {
		km, ok := c.maps[m]
		if !ok {
			continue
		}
		for _, s := range m.Slots {
			var fd uint32
			switch m.Type {
			case object.ProgArray:
				p, ok := c.progs[s.Name]
				if !ok {
					return fmt.Errorf("map %s: values[%d]: program %s is not loaded: %w", m.Name, s.Key, s.Name, unix.ENOENT)
				}
				fd = p.fd.Uint()
			default:
				inner := spec.Map(s.Name)
				ik, ok := c.maps[inner]
				if inner == nil || !ok {
					return fmt.Errorf("map %s: values[%d]: map %s is not created: %w", m.Name, s.Key, s.Name, unix.ENOENT)
				}
				fd = ik.fd.Uint()
			}
			key := binary.LittleEndian.AppendUint32(nil, s.Key)
			val := binary.LittleEndian.AppendUint32(nil, fd)
			if err := sys.MapUpdate(km.fd, key, val, 0); err != nil {
				return fmt.Errorf("map %s: values[%d] = %s: %w", m.Name, s.Key, s.Name, err)
			}
		}
	}
	return nil
}

// collection is a loaded object.
type collection struct {
	btfFD   *sys.FD
	btfErr  error // why the object's BTF was not loaded, if it was not
	raw     *rawBTF
	modules map[string]*btf.Handle // module BTF used by kfuncs
	fdArray []int32                // for module kfuncs; index 0 is unused
	missing []string               // weak kfuncs this kernel lacks, by poison number

	maps     map[*object.MapSpec]*kmap
	mapList  []*kmap
	progs    map[string]*program
	arenaMap *kmap
	arena    *arena.Arena
	backend  *backend

	closeOnce sync.Once
	closeErr  error
	pinDir    string // Options.PinPath
}

// kmap is a created map.
type kmap struct {
	spec *object.MapSpec
	name string // kernel name
	fd   *sys.FD
	mem  []byte // the mmap of an arena or global data map
	// reused: the map was pinned by an earlier load and keeps its
	// contents.
	reused bool
	size   int // value size seen by Lookup (per-CPU maps: all CPUs)
}

func (c *collection) Program(name string) (engine.Program, bool) {
	p, ok := c.progs[name]
	if !ok {
		return nil, false // not a nil *program in a non-nil interface
	}
	return p, true
}

func (c *collection) Arena() *arena.Arena { return c.arena }

func (c *collection) Data(m *object.MapSpec) ([]byte, bool) {
	km, ok := c.maps[m]
	if !ok || km.mem == nil || m.IsArena() {
		return nil, false
	}
	return km.mem[:m.ValueSize:m.ValueSize], true
}

func (c *collection) Map(name string) (engine.Map, bool) {
	for _, m := range c.mapList {
		if m.spec.Name == name || m.name == name {
			return m, true
		}
	}
	return nil, false
}

// Close releases programs, mappings, maps and BTF, in that order so that
// nothing is used after it is gone. It is safe to call more than once.
func (c *collection) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		if c.backend != nil {
			errs = append(errs, c.backend.close())
		}
		for _, p := range c.progs {
			errs = append(errs, p.fd.Close())
		}
		if c.arena != nil {
			c.arena.Close()
		}
		for _, m := range c.mapList {
			if m.mem != nil {
				errs = append(errs, sys.Munmap(m.mem))
				m.mem = nil
			}
			errs = append(errs, m.fd.Close())
		}
		for _, h := range c.modules {
			errs = append(errs, h.Close())
		}
		errs = append(errs, c.btfFD.Close())
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// loadBTF loads the object's BTF, sanitized for the kernel. A kernel that
// refuses it is not fatal, as with libbpf: programs then load without func
// and line info, and the reason is added to any later load error.
func (c *collection) loadBTF(spec *object.Spec) error {
	if len(spec.RawBTF) == 0 {
		return nil
	}
	raw, err := parseRawBTF(spec.RawBTF)
	if err != nil {
		return fmt.Errorf("object BTF: %w", err)
	}
	raw.sanitize()
	// Line info refers to file names and source lines by string offset;
	// make sure every one is in the table before the BTF goes to the kernel.
	for _, p := range spec.Programs {
		for _, l := range p.Lines {
			raw.stringOffset(l.File)
			raw.stringOffset(l.Source)
		}
	}
	c.raw = raw
	fd, err := sys.BTFLoad(raw.bytes())
	if err != nil {
		var le *sys.LoadError
		if errors.As(err, &le) && le.Log != "" {
			err = fmt.Errorf("%w: %s", err, lastLogLine(le.Log))
		}
		c.btfErr = err
		return nil
	}
	c.btfFD = fd
	return nil
}

// objectName is libbpf's object name: the file name up to its first dot.
func objectName(path string) string {
	name := filepath.Base(path)
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	return name
}

// kernelMapName is the name the kernel gets, as libbpf makes it. Maps
// declared in .maps keep theirs. A global data map is named after its
// section, prefixed with as much of the object name as fits in 15
// characters next to a suffix counted as at least 7 characters (so
// "htab.bss", but "verylong.bss" for a long object name); custom sections
// with a second dot (".rodata.str1.1", ".data.foo") get no prefix.
// Characters the kernel refuses become '_'.
func kernelMapName(objName string, m *object.MapSpec) string {
	name := m.Name
	if m.Section != ".maps" && !m.IsArena() && strings.HasPrefix(m.Section, ".") {
		sec := m.Section
		sfx := min(max(7, len(sec)), sys.ObjNameLen-1)
		pfx := 0
		if !strings.Contains(sec[1:], ".") {
			pfx = min(sys.ObjNameLen-1-sfx, len(objName))
		}
		name = objName[:pfx] + sec[:min(len(sec), sfx)]
	}
	b := []byte(name)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '.') {
			b[i] = '_'
		}
	}
	if len(b) > sys.ObjNameLen-1 {
		b = b[:sys.ObjNameLen-1]
	}
	return string(b)
}

// isDataMap reports whether m backs global variables (.bss, .data*,
// .rodata*, .kconfig) rather than being declared in .maps.
func isDataMap(m *object.MapSpec) bool {
	return !m.IsArena() && m.Section != ".maps" && m.Section != ""
}

// createMaps creates the arena first and maps it, as libbpf does, so its
// user address is fixed before anything refers to it; then the others.
func (c *collection) createMaps(spec *object.Spec) error {
	objName := objectName(spec.Path)
	var arenas []*object.MapSpec
	for _, m := range spec.Maps {
		if m.IsArena() {
			arenas = append(arenas, m)
		}
	}
	if len(arenas) > 1 {
		return fmt.Errorf("maps %s and %s: only one arena per object is supported", arenas[0].Name, arenas[1].Name)
	}
	order := append(slices.Clone(arenas), slices.DeleteFunc(slices.Clone(spec.Maps), (*object.MapSpec).IsArena)...)
	for _, m := range order {
		km, err := c.createMap(spec, objName, m)
		if err != nil {
			return err
		}
		c.maps[m] = km
		c.mapList = append(c.mapList, km)
		if m.IsArena() {
			c.arenaMap = km
			if err := c.setupArena(km); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *collection) createMap(spec *object.Spec, objName string, m *object.MapSpec) (*kmap, error) {
	km := &kmap{spec: m, name: kernelMapName(objName, m), size: int(m.ValueSize)}
	attr := sys.MapCreateAttr{
		MapType:    uint32(m.Type),
		KeySize:    m.KeySize,
		ValueSize:  m.ValueSize,
		MaxEntries: m.MaxEntries,
		MapFlags:   m.Flags,
		NumaNode:   m.NumaNode,
		MapName:    sys.NewObjName(km.name),
		MapExtra:   m.MapExtra,
	}
	data := isDataMap(m)
	if data {
		attr.MapType = uint32(object.Array)
		attr.KeySize = 4
		attr.MaxEntries = 1
		if m.ReadOnly {
			attr.MapFlags |= object.FlagRdonlyProg
		}
	}
	if c.pinDir != "" {
		pfd, err := pinnedMap(c.pinDir, pinName(m.Name), &attr)
		if err != nil {
			return nil, err
		}
		if pfd != nil {
			km.fd, km.reused = pfd, true
			if err := c.openMap(spec, km, data); err != nil {
				pfd.Close()
				return nil, err
			}
			return km, nil
		}
	}
	if m.InnerMap != nil {
		// The kernel takes the inner map's shape from a template map,
		// which is not needed once the outer map exists.
		inner, err := sys.MapCreate(&sys.MapCreateAttr{
			MapType:    uint32(m.InnerMap.Type),
			KeySize:    m.InnerMap.KeySize,
			ValueSize:  m.InnerMap.ValueSize,
			MaxEntries: m.InnerMap.MaxEntries,
			MapFlags:   m.InnerMap.Flags,
			MapName:    sys.NewObjName(sanitizeName(m.InnerMap.Name)),
		})
		if err != nil {
			return nil, fmt.Errorf("create inner map of %s: %w", m.Name, mapCreateError(err))
		}
		defer inner.Close()
		attr.InnerMapFD = inner.Uint()
	}
	// BTF key/value types matter for maps with special fields (spin locks,
	// timers); the arena takes none. Global data maps get their DATASEC as
	// value type and no key type, as libbpf gives them.
	if c.btfFD != nil && data {
		if id := c.raw.datasecID(m.Section); id != 0 {
			attr.BTFFD = c.btfFD.Uint()
			attr.BTFValueTypeID = id
		}
	}
	if c.btfFD != nil && !m.IsArena() && !data && m.Key != nil && m.Value != nil && spec.BTF != nil {
		kid, kerr := spec.BTF.TypeID(m.Key)
		vid, verr := spec.BTF.TypeID(m.Value)
		if kerr == nil && verr == nil {
			attr.BTFFD = c.btfFD.Uint()
			attr.BTFKeyTypeID = uint32(kid)
			attr.BTFValueTypeID = uint32(vid)
		}
	}
	fd, err := sys.MapCreate(&attr)
	if err != nil && attr.BTFFD != 0 {
		// libbpf also retries without BTF: older or stricter kernels
		// reject some key/value types that the map does not need.
		attr.BTFFD, attr.BTFKeyTypeID, attr.BTFValueTypeID = 0, 0, 0
		fd, err = sys.MapCreate(&attr)
	}
	if err != nil {
		if c.btfErr != nil && m.Key != nil && m.Value != nil {
			// The map was to get BTF types, which some map types need;
			// say why it had none rather than leave a bare EINVAL.
			return nil, fmt.Errorf("create map %s (type %d): %w (the kernel refused the object's BTF: %v)", m.Name, m.Type, mapCreateError(err), c.btfErr)
		}
		return nil, fmt.Errorf("create map %s (type %d): %w", m.Name, m.Type, mapCreateError(err))
	}
	km.fd = fd
	if err := c.openMap(spec, km, data); err != nil {
		fd.Close()
		return nil, err
	}
	if c.pinDir != "" {
		// The arena's address goes beside the pins first: a later
		// process must map the arena exactly there.
		if m.IsArena() {
			if err := recordArenaAddr(c.pinDir, uint64(sys.Addr(km.mem))); err != nil {
				km.unmap()
				fd.Close()
				return nil, err
			}
		}
		if err := sys.ObjPin(fd, filepath.Join(c.pinDir, pinName(m.Name))); err != nil {
			km.unmap()
			fd.Close()
			return nil, fmt.Errorf("pin map %s in %s: %w", m.Name, c.pinDir, err)
		}
	}
	return km, nil
}

// openMap makes a created or pinned map usable: the arena and global
// data mapped (a new data map first gets its initial value), per-CPU value
// sizes known.
func (c *collection) openMap(spec *object.Spec, km *kmap, data bool) error {
	m := km.spec
	switch {
	case m.IsArena() && km.reused:
		addr, err := pinnedArenaAddr(c.pinDir)
		if err != nil {
			return err
		}
		if addr == 0 {
			return fmt.Errorf("arena %s is pinned in %s without its address (%s): %w", m.Name, c.pinDir, metaPin, engine.ErrPinMismatch)
		}
		return km.mapArenaAt(addr)
	case m.IsArena():
		return km.mapArena()
	case data && km.reused:
		return km.mmapData()
	case data:
		return km.populateData(spec)
	case m.Type == object.PerCPUArray || m.Type == object.PerCPUHash || m.Type == object.LRUPerCPUHash:
		n, err := possibleCPUs()
		if err != nil {
			return err
		}
		km.size = int((m.ValueSize+7)&^7) * n
	}
	return nil
}

func mapCreateError(err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w (%w: creating maps needs root or CAP_BPF)", err, engine.ErrNotSupported)
	}
	return err
}

// populateData writes a global data map's initial value, freezes read-only
// ones, and maps the value so Go sees what programs see.
func (km *kmap) populateData(spec *object.Spec) error {
	m := km.spec
	value := make([]byte, m.ValueSize)
	copy(value, m.Contents)
	if m.Section == ".kconfig" {
		if err := kconfig.Fill(value, spec.Externs, kconfig.Host(), true); err != nil {
			return err
		}
	}
	if err := sys.MapUpdate(km.fd, make([]byte, 4), value, 0); err != nil {
		return fmt.Errorf("map %s: write initial value: %w", m.Name, err)
	}
	if m.ReadOnly {
		if err := sys.MapFreeze(km.fd); err != nil {
			return fmt.Errorf("map %s: freeze: %w", m.Name, err)
		}
	}
	return km.mmapData()
}

// mmapData maps a global data map's value so Go sees what programs see.
func (km *kmap) mmapData() error {
	m := km.spec
	prot := unix.PROT_READ | unix.PROT_WRITE
	if m.ReadOnly {
		prot = unix.PROT_READ
	}
	size := (uintptr(m.ValueSize) + arena.PageSize - 1) &^ (arena.PageSize - 1)
	if size == 0 || m.Flags&object.FlagMmapable == 0 {
		// Not mmapable (only hidden variables, as libbpf decides): Go
		// does not see it, as libbpf gives no initial-value pointer.
		return nil
	}
	mem, err := sys.Mmap(0, size, prot, unix.MAP_SHARED, km.fd.Int())
	if err != nil {
		return fmt.Errorf("map %s: mmap: %w", m.Name, err)
	}
	km.mem = mem
	return nil
}

// mapArena maps the arena into this process: at map_extra exactly when it
// is set, without replacing anything already mapped there, else where the
// kernel chooses. The first mmap fixes the arena's user address, so this
// happens before any program that uses the arena is loaded.
func (km *kmap) mapArena() error {
	m := km.spec
	size := uintptr(m.MaxEntries) * arena.PageSize
	prot := unix.PROT_READ | unix.PROT_WRITE
	if m.MapExtra != 0 {
		return km.mapArenaAt(m.MapExtra)
	}
	mem, err := sys.Mmap(0, size, prot, unix.MAP_SHARED, km.fd.Int())
	if err != nil {
		return fmt.Errorf("arena %s: mmap: %w", m.Name, err)
	}
	km.mem = mem
	return nil
}

// mapArenaAt maps the arena exactly at addr (map_extra, or where a pinned
// arena lives), without replacing anything mapped there.
func (km *kmap) mapArenaAt(addr uint64) error {
	m := km.spec
	size := uintptr(m.MaxEntries) * arena.PageSize
	prot := unix.PROT_READ | unix.PROT_WRITE
	mem, err := sys.Mmap(uintptr(addr), size, prot, unix.MAP_SHARED|sys.MapFixedNoReplace, km.fd.Int())
	switch {
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("arena %s: range [%#x, %#x) is already mapped in this process (another arena, or other memory): %w",
			m.Name, addr, addr+uint64(size), err)
	case err != nil:
		return fmt.Errorf("arena %s: mmap at %#x: %w", m.Name, addr, err)
	case uint64(sys.Addr(mem)) != addr:
		// A kernel that ignores MAP_FIXED_NOREPLACE takes it as a hint.
		sys.Munmap(mem)
		return fmt.Errorf("arena %s: mmap placed the arena at %#x instead of %#x", m.Name, sys.Addr(mem), addr)
	}
	km.mem = mem
	return nil
}

// unmap drops the map's mapping, if any.
func (km *kmap) unmap() {
	if km.mem != nil {
		sys.Munmap(km.mem)
		km.mem = nil
	}
}

// possibleCPUs counts the possible CPUs, which size per-CPU map values.
func possibleCPUs() (int, error) {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range strings.Split(strings.TrimSpace(string(b)), ",") {
		var lo, hi int
		if _, err := fmt.Sscanf(r, "%d-%d", &lo, &hi); err == nil {
			n += hi - lo + 1
		} else if _, err := fmt.Sscanf(r, "%d", &lo); err == nil {
			n++
		} else {
			return 0, fmt.Errorf("parse possible CPUs %q", b)
		}
	}
	return n, nil
}

// Lookup reads the value at key.
func (km *kmap) Lookup(key []byte) ([]byte, error) {
	v := make([]byte, km.size)
	if err := sys.MapLookup(km.fd, key, v); err != nil {
		return nil, fmt.Errorf("map %s: lookup: %w", km.spec.Name, err)
	}
	return v, nil
}

// Update writes value at key.
func (km *kmap) Update(key, value []byte, flags uint64) error {
	if len(value) != km.size {
		return fmt.Errorf("map %s: value of %d bytes, want %d: %w", km.spec.Name, len(value), km.size, unix.EINVAL)
	}
	if err := sys.MapUpdate(km.fd, key, value, flags); err != nil {
		return fmt.Errorf("map %s: update: %w", km.spec.Name, err)
	}
	return nil
}

// Delete removes key.
func (km *kmap) Delete(key []byte) error {
	if err := sys.MapDelete(km.fd, key); err != nil {
		return fmt.Errorf("map %s: delete: %w", km.spec.Name, err)
	}
	return nil
}

// FD is the map's file descriptor.
func (km *kmap) FD() int { return km.fd.Int() }
