//go:build linux

package kernel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/cilium/ebpf/btf"
)

// The running kernel's BTF, decoded in full for CO-RE relocation only. It
// is large and does not change while the process runs, so it is parsed once
// and shared by every load.
var (
	vmlinuxMu   sync.Mutex
	vmlinuxSpec *btf.Spec
)

func kernelSpec() (*btf.Spec, error) {
	vmlinuxMu.Lock()
	defer vmlinuxMu.Unlock()
	if vmlinuxSpec != nil {
		return vmlinuxSpec, nil
	}
	s, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("kernel BTF: %w", err)
	}
	vmlinuxSpec = s
	return s, nil
}

// kernelSym is an extern resolved in kernel BTF.
type kernelSym struct {
	id     uint32
	module string // "" for vmlinux
}

var errSymNotFound = errors.New("not found in kernel BTF")

// kernelBTF resolves names of functions, variables and typedefs in one
// kernel BTF (vmlinux or a module) to type ids. It scans the raw types only
// for names not seen before, many names per pass, and remembers the
// answers: a load needs a handful of kfuncs, and indexing all 56,000
// functions of vmlinux costs more than the load itself.
type kernelBTF struct {
	types, strs []byte
	firstID     uint32            // id of the first type in types
	nTypes      uint32            // types in this BTF, base included; 0 until counted
	strBase     uint32            // offset of strs in the combined string table
	strsLen     uint32            // string bytes, base included
	ids         map[symKey]uint32 // 0: known to be absent
}

type symKey struct {
	kind int
	name string
}

// Which kinds names are looked up among.
const (
	idxFunc = iota
	idxVar
	idxTypedef
)

const kindTypedef = 8

var btfKinds = [...]uint32{idxFunc: kindFunc, idxVar: kindVar, idxTypedef: kindTypedef}

var (
	kernelBTFMu sync.Mutex
	vmlinuxBTF  *kernelBTF
	moduleBTFs  = map[string]*kernelBTF{}
)

// openKernelBTF reads raw kernel BTF. Module BTF is split BTF: its ids and
// string offsets continue those of base (vmlinux).
func openKernelBTF(raw []byte, base *kernelBTF) (*kernelBTF, error) {
	le := binary.LittleEndian
	if len(raw) < btfHeaderLen || le.Uint16(raw) != btfMagic {
		return nil, errors.New("not little-endian BTF")
	}
	hdrLen := le.Uint32(raw[4:])
	typeOff, typeLen := le.Uint32(raw[8:]), le.Uint32(raw[12:])
	strOff, strLen := le.Uint32(raw[16:]), le.Uint32(raw[20:])
	if uint64(hdrLen)+uint64(typeOff)+uint64(typeLen) > uint64(len(raw)) ||
		uint64(hdrLen)+uint64(strOff)+uint64(strLen) > uint64(len(raw)) {
		return nil, errors.New("BTF sections outside the data")
	}
	k := &kernelBTF{
		types:   raw[hdrLen+typeOff : hdrLen+typeOff+typeLen],
		strs:    raw[hdrLen+strOff : hdrLen+strOff+strLen],
		firstID: 1,
		ids:     make(map[symKey]uint32),
	}
	if base != nil {
		k.firstID, k.strBase = base.nTypes+1, base.strsLen
	}
	k.strsLen = k.strBase + strLen
	return k, nil
}

// count counts the types, which a module's split BTF needs from its base;
// it also checks every record, so later scans can trust the lengths.
func (k *kernelBTF) count() error {
	if k.nTypes != 0 {
		return nil
	}
	n := uint32(0)
	for off := 0; off < len(k.types); n++ {
		if off+btfTypeHeaderLen > len(k.types) {
			return fmt.Errorf("truncated type %d", k.firstID+n)
		}
		l, err := typeRecordLen(k.types[off:])
		if err != nil {
			return fmt.Errorf("type %d: %w", k.firstID+n, err)
		}
		off += l
	}
	k.nTypes = k.firstID - 1 + n
	return nil
}

// resolve looks names of one kind up, scanning once for all the names not
// resolved before; absent names map to 0.
func (k *kernelBTF) resolve(kind int, names ...string) {
	want := make(map[string]bool)
	for _, n := range names {
		if _, ok := k.ids[symKey{kind, n}]; !ok {
			want[n] = true
		}
	}
	if len(want) == 0 {
		return
	}
	le := binary.LittleEndian
	btfKind := btfKinds[kind]
	id := k.firstID
	for off := 0; off+btfTypeHeaderLen <= len(k.types) && len(want) > 0; id++ {
		l, err := typeRecordLen(k.types[off:])
		if err != nil {
			break // corrupt kernel BTF: the rest stays unresolved
		}
		info := le.Uint32(k.types[off+4:])
		if (info>>24)&0x1f == btfKind {
			if nameOff := le.Uint32(k.types[off:]); nameOff >= k.strBase && nameOff-k.strBase < uint32(len(k.strs)) {
				name := k.strs[nameOff-k.strBase:]
				if e := bytes.IndexByte(name, 0); e >= 0 {
					name = name[:e]
				}
				if want[string(name)] {
					k.ids[symKey{kind, string(name)}] = id
					delete(want, string(name))
				}
			}
		}
		off += l
	}
	for n := range want {
		k.ids[symKey{kind, n}] = 0
	}
}

// kernelBTFOf returns vmlinux's BTF, or a module's, read once.
func kernelBTFOf(module string) (*kernelBTF, error) {
	if vmlinuxBTF == nil {
		raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
		if err != nil {
			// Arena kfuncs are called by BTF id: no BTF, no arenas.
			return nil, fmt.Errorf("kernel BTF (CONFIG_DEBUG_INFO_BTF): %w (%w)", err, engine.ErrNotSupported)
		}
		if vmlinuxBTF, err = openKernelBTF(raw, nil); err != nil {
			return nil, fmt.Errorf("kernel BTF: %w", err)
		}
	}
	if module == "" {
		return vmlinuxBTF, nil
	}
	if k, ok := moduleBTFs[module]; ok {
		return k, nil
	}
	if err := vmlinuxBTF.count(); err != nil {
		return nil, fmt.Errorf("kernel BTF: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join("/sys/kernel/btf", module))
	if err != nil {
		return nil, fmt.Errorf("BTF of module %s: %w", module, err)
	}
	k, err := openKernelBTF(raw, vmlinuxBTF)
	if err == nil {
		err = k.count()
	}
	if err != nil {
		return nil, fmt.Errorf("BTF of module %s: %w", module, err)
	}
	moduleBTFs[module] = k
	return k, nil
}

// prefetchKernelSyms resolves many names of one kind in vmlinux in one
// scan, so that the findKernelSym calls of a load find them cached.
func prefetchKernelSyms(kind int, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	kernelBTFMu.Lock()
	defer kernelBTFMu.Unlock()
	vm, err := kernelBTFOf("")
	if err != nil {
		return err
	}
	vm.resolve(kind, names...)
	return nil
}

// findKernelSym looks a function, variable or typedef up by name in
// vmlinux and then in the modules' BTF.
func findKernelSym(kind int, name string) (kernelSym, error) {
	kernelBTFMu.Lock()
	defer kernelBTFMu.Unlock()
	vm, err := kernelBTFOf("")
	if err != nil {
		return kernelSym{}, err
	}
	vm.resolve(kind, name)
	if id := vm.ids[symKey{kind, name}]; id != 0 {
		return kernelSym{id: id}, nil
	}
	mods, _ := os.ReadDir("/sys/kernel/btf")
	for _, m := range mods {
		if m.Name() == "vmlinux" {
			continue
		}
		k, err := kernelBTFOf(m.Name())
		if err != nil {
			continue
		}
		k.resolve(kind, name)
		if id := k.ids[symKey{kind, name}]; id != 0 {
			return kernelSym{id: id, module: m.Name()}, nil
		}
	}
	return kernelSym{}, fmt.Errorf("%s: %w", name, errSymNotFound)
}

// kallsymsAddr is the address of a kernel symbol from /proc/kallsyms, for
// typeless __ksym externs (declared as void), which BTF does not describe.
func kallsymsAddr(name string) (uint64, error) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[2] == name {
			addr, err := strconv.ParseUint(fields[0], 16, 64)
			if err != nil {
				return 0, err
			}
			if addr == 0 {
				return 0, fmt.Errorf("kallsyms shows %s at 0: kptr_restrict hides addresses", name)
			}
			return addr, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: not in /proc/kallsyms", name)
}
