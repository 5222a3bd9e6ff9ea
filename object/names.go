package object

import "fmt"

// The names are the kernel's enum names without their prefix, in lower
// case, as bpftool prints them.

var programTypeNames = map[ProgramType]string{
	UnspecifiedProgram: "unspec",
	SocketFilter:       "socket_filter",
	Kprobe:             "kprobe",
	SchedCLS:           "sched_cls",
	SchedACT:           "sched_act",
	TracePoint:         "tracepoint",
	XDP:                "xdp",
	PerfEvent:          "perf_event",
	RawTracepoint:      "raw_tracepoint",
	RawTracepointW:     "raw_tracepoint_writable",
	Tracing:            "tracing",
	StructOps:          "struct_ops",
	Extension:          "ext",
	LSM:                "lsm",
	SkLookup:           "sk_lookup",
	Syscall:            "syscall",
	Netfilter:          "netfilter",
}

func (t ProgramType) String() string {
	if n, ok := programTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("prog_type(%d)", uint32(t))
}

var attachTypeNames = map[AttachType]string{
	AttachNone:         "none",
	AttachTraceRawTp:   "trace_raw_tp",
	AttachTraceFEntry:  "trace_fentry",
	AttachTraceFExit:   "trace_fexit",
	AttachModifyReturn: "modify_return",
	AttachLSMMac:       "lsm_mac",
	AttachTraceIter:    "trace_iter",
	AttachXDPDevmap:    "xdp_devmap",
	AttachXDPCPUMap:    "xdp_cpumap",
	AttachSkLookup:     "sk_lookup",
	AttachXDP:          "xdp",
	AttachKprobeMulti:  "trace_kprobe_multi",
	AttachLSMCgroup:    "lsm_cgroup",
	AttachNetfilter:    "netfilter",
	AttachTCXIngress:   "tcx_ingress",
	AttachTCXEgress:    "tcx_egress",
	AttachUprobeMulti:  "trace_uprobe_multi",
}

// String names the attach type. 0 is both "no attach type" and
// BPF_CGROUP_INET_INGRESS; programs of the types this package reads from
// section names never mean the latter.
func (t AttachType) String() string {
	if n, ok := attachTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("attach_type(%d)", uint32(t))
}

var mapTypeNames = map[MapType]string{
	Hash:           "hash",
	Array:          "array",
	ProgArray:      "prog_array",
	PerfEventArray: "perf_event_array",
	PerCPUHash:     "percpu_hash",
	PerCPUArray:    "percpu_array",
	LRUHash:        "lru_hash",
	LRUPerCPUHash:  "lru_percpu_hash",
	ArrayOfMaps:    "array_of_maps",
	HashOfMaps:     "hash_of_maps",
	RingBuf:        "ringbuf",
	Arena:          "arena",
}

func (t MapType) String() string {
	if n, ok := mapTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("map_type(%d)", uint32(t))
}

func (k ExternKind) String() string {
	switch k {
	case ExternKfunc:
		return "kfunc"
	case ExternKsym:
		return "ksym"
	case ExternKconfig:
		return "kconfig"
	}
	return fmt.Sprintf("ExternKind(%d)", int(k))
}

func (k RelocationKind) String() string {
	switch k {
	case RelocMap:
		return "map"
	case RelocMapValue:
		return "map_value"
	case RelocKfunc:
		return "kfunc"
	case RelocKsym:
		return "ksym"
	case RelocKconfig:
		return "kconfig"
	}
	return fmt.Sprintf("RelocationKind(%d)", int(k))
}
