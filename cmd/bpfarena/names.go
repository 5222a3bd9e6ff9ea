package main

import (
	"fmt"
	"strings"

	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

var progTypeNames = map[object.ProgramType]string{
	object.SocketFilter: "socket_filter", object.Kprobe: "kprobe", object.SchedCLS: "sched_cls",
	object.SchedACT: "sched_act", object.TracePoint: "tracepoint", object.XDP: "xdp",
	object.PerfEvent: "perf_event", object.RawTracepoint: "raw_tracepoint", object.Tracing: "tracing",
	object.StructOps: "struct_ops", object.Extension: "ext", object.LSM: "lsm", object.Syscall: "syscall",
}

func progTypeName(t object.ProgramType) string {
	if n, ok := progTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type%d", t)
}

var attachTypeNames = map[object.AttachType]string{
	object.AttachTraceRawTp: "trace_raw_tp", object.AttachTraceFEntry: "fentry", object.AttachTraceFExit: "fexit",
	object.AttachModifyReturn: "fmod_ret", object.AttachLSMMac: "lsm_mac", object.AttachTraceIter: "iter",
	object.AttachXDP: "xdp", object.AttachTCXIngress: "tcx_ingress", object.AttachTCXEgress: "tcx_egress",
}

func attachTypeName(t object.AttachType) string {
	if t == object.AttachNone {
		return ""
	}
	if n, ok := attachTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("attach%d", t)
}

var mapTypeNames = map[object.MapType]string{
	object.Hash: "hash", object.Array: "array", object.ProgArray: "prog_array",
	object.PerfEventArray: "perf_event_array", object.PerCPUHash: "percpu_hash",
	object.PerCPUArray: "percpu_array", object.LRUHash: "lru_hash", object.LRUPerCPUHash: "lru_percpu_hash",
	object.ArrayOfMaps: "array_of_maps", object.HashOfMaps: "hash_of_maps", object.RingBuf: "ringbuf",
	object.Arena: "arena",
}

func mapTypeName(t object.MapType) string {
	if n, ok := mapTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type%d", t)
}

func flagNames(f uint32) string {
	var names []string
	for _, fl := range []struct {
		bit  uint32
		name string
	}{
		{object.FlagRdonlyProg, "RDONLY_PROG"}, {object.FlagMmapable, "MMAPABLE"},
		{object.FlagSegvOnFault, "SEGV_ON_FAULT"}, {object.FlagNoUserConv, "NO_USER_CONV"},
	} {
		if f&fl.bit != 0 {
			names = append(names, fl.name)
			f &^= fl.bit
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%#x", f))
	}
	return strings.Join(names, "|")
}

// typeName renders a BTF type the way C declares it.
func typeName(t btf.Type) string {
	if t == nil {
		return "?"
	}
	switch t := t.(type) {
	case *btf.Pointer:
		return typeName(t.Target) + " *"
	case *btf.Array:
		return fmt.Sprintf("%s[%d]", typeName(t.Type), t.Nelems)
	case *btf.Const:
		return "const " + typeName(t.Type)
	case *btf.Volatile:
		return "volatile " + typeName(t.Type)
	case *btf.Restrict:
		return typeName(t.Type)
	case *btf.TypeTag:
		return typeName(t.Type) + " __attribute__((btf_type_tag(\"" + t.Value + "\")))"
	case *btf.Struct:
		if t.Name == "" {
			return "struct {...}"
		}
		return "struct " + t.Name
	case *btf.Union:
		if t.Name == "" {
			return "union {...}"
		}
		return "union " + t.Name
	case *btf.Enum:
		if t.Name == "" {
			return "enum {...}"
		}
		return "enum " + t.Name
	case *btf.Fwd:
		return t.Kind.String() + " " + t.Name
	case *btf.FuncProto:
		return "func"
	}
	if n := t.TypeName(); n != "" {
		return n
	}
	return fmt.Sprint(t)
}
