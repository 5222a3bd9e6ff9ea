//go:build linux

package kernel

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"
)

// The running kernel's BTF is large and does not change while the process
// runs, so it is parsed once and shared by every load.
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

// btfIndex maps the names of a kernel BTF's functions, variables and
// typedefs to their type ids. Resolving a few kfuncs by name needs no
// more, and building it is several times faster than decoding every type.
type btfIndex struct {
	names   [3]map[string]uint32 // by indexKind
	nTypes  uint32               // types in this BTF, base included
	strsLen uint32               // string bytes, base included
}

// Which kinds the index keeps.
const (
	idxFunc = iota
	idxVar
	idxTypedef
)

const kindTypedef = 8

var (
	indexMu      sync.Mutex
	vmlinuxIndex *btfIndex
	moduleIndex  = map[string]*btfIndex{}
)

// buildIndex indexes raw kernel BTF. Module BTF is split BTF: its ids and
// string offsets continue those of base (vmlinux).
func buildIndex(raw []byte, base *btfIndex) (*btfIndex, error) {
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
	types := raw[hdrLen+typeOff : hdrLen+typeOff+typeLen]
	strs := raw[hdrLen+strOff : hdrLen+strOff+strLen]
	idx := &btfIndex{}
	for i := range idx.names {
		idx.names[i] = make(map[string]uint32, 1024)
	}
	// One string holding the whole table: the names are substrings of it,
	// so indexing allocates no string per type.
	table := string(strs)
	var firstID, strBase uint32 = 1, 0
	if base != nil {
		firstID, strBase = base.nTypes+1, base.strsLen
	}
	id := firstID
	for off := 0; off < len(types); id++ {
		if off+btfTypeHeaderLen > len(types) {
			return nil, fmt.Errorf("truncated type %d", id)
		}
		n, err := typeRecordLen(types[off:])
		if err != nil {
			return nil, fmt.Errorf("type %d: %w", id, err)
		}
		k := -1
		switch (le.Uint32(types[off+4:]) >> 24) & 0x1f {
		case kindFunc:
			k = idxFunc
		case kindVar:
			k = idxVar
		case kindTypedef:
			k = idxTypedef
		}
		if nameOff := le.Uint32(types[off:]); k >= 0 && nameOff >= strBase && nameOff-strBase < uint32(len(strs)) {
			name := table[nameOff-strBase:]
			if e := strings.IndexByte(name, 0); e >= 0 {
				name = name[:e]
			}
			if _, dup := idx.names[k][name]; !dup {
				idx.names[k][name] = id
			}
		}
		off += n
	}
	idx.nTypes = id - 1
	idx.strsLen = strBase + strLen
	return idx, nil
}

// kernelIndex returns the index of vmlinux, or of a module, built once.
func kernelIndex(module string) (*btfIndex, error) {
	indexMu.Lock()
	defer indexMu.Unlock()
	if vmlinuxIndex == nil {
		raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
		if err != nil {
			return nil, fmt.Errorf("kernel BTF: %w", err)
		}
		if vmlinuxIndex, err = buildIndex(raw, nil); err != nil {
			return nil, fmt.Errorf("kernel BTF: %w", err)
		}
	}
	if module == "" {
		return vmlinuxIndex, nil
	}
	if idx, ok := moduleIndex[module]; ok {
		return idx, nil
	}
	raw, err := os.ReadFile(filepath.Join("/sys/kernel/btf", module))
	if err != nil {
		return nil, fmt.Errorf("BTF of module %s: %w", module, err)
	}
	idx, err := buildIndex(raw, vmlinuxIndex)
	if err != nil {
		return nil, fmt.Errorf("BTF of module %s: %w", module, err)
	}
	moduleIndex[module] = idx
	return idx, nil
}

// findKernelSym looks a function, variable or typedef up by name in
// vmlinux and then in the modules' BTF.
func findKernelSym(kind int, name string) (kernelSym, error) {
	vm, err := kernelIndex("")
	if err != nil {
		return kernelSym{}, err
	}
	if id, ok := vm.names[kind][name]; ok {
		return kernelSym{id: id}, nil
	}
	mods, _ := os.ReadDir("/sys/kernel/btf")
	for _, m := range mods {
		if m.Name() == "vmlinux" {
			continue
		}
		idx, err := kernelIndex(m.Name())
		if err != nil {
			continue
		}
		if id, ok := idx.names[kind][name]; ok {
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
