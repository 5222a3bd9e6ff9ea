//go:build linux

package kernel

import (
	"bufio"
	"errors"
	"fmt"
	"os"
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
	id     btf.TypeID
	module string // "" for vmlinux
}

var errSymNotFound = errors.New("not found in kernel BTF")

// findKernelType looks name up among the types of kind T, in vmlinux and
// then in the loaded modules' BTF.
func findKernelType[T btf.Type](name string) (kernelSym, error) {
	vm, err := kernelSpec()
	if err != nil {
		return kernelSym{}, err
	}
	if id, ok := typeIDByName[T](vm, name); ok {
		return kernelSym{id: id}, nil
	}
	mods, _ := os.ReadDir("/sys/kernel/btf")
	for _, m := range mods {
		if m.Name() == "vmlinux" {
			continue
		}
		ms, err := btf.LoadKernelModuleSpec(m.Name())
		if err != nil {
			continue
		}
		if id, ok := typeIDByName[T](ms, name); ok {
			return kernelSym{id: id, module: m.Name()}, nil
		}
	}
	return kernelSym{}, fmt.Errorf("%s: %w", name, errSymNotFound)
}

func typeIDByName[T btf.Type](s *btf.Spec, name string) (btf.TypeID, bool) {
	types, err := s.AnyTypesByName(name)
	if err != nil {
		return 0, false
	}
	for _, t := range types {
		if _, ok := t.(T); ok {
			if id, err := s.TypeID(t); err == nil {
				return id, true
			}
		}
	}
	return 0, false
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
