package vm

import (
	"github.com/bpfarena/bpfarena/internal/kversion"
	"sync"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/corerelo"
	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

var (
	hostBTFOnce sync.Once
	hostBTF     *btf.Spec
)

// coreTarget is the BTF CO-RE relocations resolve against: the running
// kernel's when there is one (the answers then match the kernel engine),
// else the object's own types, so that relocations about the program's own
// types still resolve where no kernel BTF exists.
func coreTarget(spec *object.Spec) *btf.Spec {
	hostBTFOnce.Do(func() {
		// A kernel older than the arena lacks the types arena programs
		// relocate against (struct bpf_arena): the object's own BTF
		// then describes them better than the host's.
		if v, err := kversion.HostVersion(); err == nil && v.Less(kversion.ArenaSince) {
			return
		}
		if s, err := btf.LoadKernelSpec(); err == nil {
			hostBTF = s
		}
	})
	if hostBTF != nil {
		return hostBTF
	}
	return spec.BTF
}

// applyCORE returns ps's instructions with its CO-RE relocations applied;
// the spec itself is left alone.
func applyCORE(spec *object.Spec, ps *object.ProgramSpec, target *btf.Spec) (asm.Instructions, error) {
	if len(ps.CORERelos) == 0 {
		return ps.Instructions, nil
	}
	insns := append(asm.Instructions(nil), ps.Instructions...)
	if err := corerelo.Apply(spec, ps, insns, target); err != nil {
		return nil, err
	}
	return insns, nil
}
