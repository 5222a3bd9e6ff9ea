package object

import "strings"

// secMatch says how a section definition matches a section name. The rules
// are libbpf's: an exact name; a name that may be followed by "/target"
// (libbpf writes these with a trailing '+'); or a plain prefix.
type secMatch int

const (
	matchExact  secMatch = iota // the name itself only
	matchTarget                 // the name, or the name + "/" + target
)

// secDef maps a section name to what the kernel needs to load its programs.
type secDef struct {
	name      string
	match     secMatch
	typ       ProgramType
	attach    AttachType
	sleepable bool
	flags     uint32 // extra prog_flags, such as ProgFlagXDPHasFrags
}

// secDefs follows the order of libbpf's table: the first match wins, so
// longer names come before their prefixes ("xdp.frags" before "xdp").
var secDefs = []secDef{
	{name: "socket", typ: SocketFilter},
	{name: "kprobe", match: matchTarget, typ: Kprobe},
	{name: "uprobe", match: matchTarget, typ: Kprobe},
	{name: "uprobe.s", match: matchTarget, typ: Kprobe, sleepable: true},
	{name: "kretprobe", match: matchTarget, typ: Kprobe},
	{name: "uretprobe", match: matchTarget, typ: Kprobe},
	{name: "uretprobe.s", match: matchTarget, typ: Kprobe, sleepable: true},
	{name: "kprobe.multi", match: matchTarget, typ: Kprobe, attach: AttachKprobeMulti},
	{name: "kretprobe.multi", match: matchTarget, typ: Kprobe, attach: AttachKprobeMulti},
	{name: "uprobe.multi", match: matchTarget, typ: Kprobe, attach: AttachUprobeMulti},
	{name: "uretprobe.multi", match: matchTarget, typ: Kprobe, attach: AttachUprobeMulti},
	{name: "uprobe.multi.s", match: matchTarget, typ: Kprobe, attach: AttachUprobeMulti, sleepable: true},
	{name: "uretprobe.multi.s", match: matchTarget, typ: Kprobe, attach: AttachUprobeMulti, sleepable: true},
	{name: "ksyscall", match: matchTarget, typ: Kprobe},
	{name: "kretsyscall", match: matchTarget, typ: Kprobe},
	{name: "usdt", match: matchTarget, typ: Kprobe},
	{name: "usdt.s", match: matchTarget, typ: Kprobe, sleepable: true},
	{name: "tc/ingress", typ: SchedCLS, attach: AttachTCXIngress},
	{name: "tc/egress", typ: SchedCLS, attach: AttachTCXEgress},
	{name: "tcx/ingress", typ: SchedCLS, attach: AttachTCXIngress},
	{name: "tcx/egress", typ: SchedCLS, attach: AttachTCXEgress},
	{name: "tc", typ: SchedCLS},
	{name: "classifier", typ: SchedCLS},
	{name: "action", typ: SchedACT},
	{name: "tracepoint", match: matchTarget, typ: TracePoint},
	{name: "tp", match: matchTarget, typ: TracePoint},
	{name: "raw_tracepoint", match: matchTarget, typ: RawTracepoint},
	{name: "raw_tp", match: matchTarget, typ: RawTracepoint},
	{name: "raw_tracepoint.w", match: matchTarget, typ: RawTracepointW},
	{name: "raw_tp.w", match: matchTarget, typ: RawTracepointW},
	{name: "tp_btf", match: matchTarget, typ: Tracing, attach: AttachTraceRawTp},
	{name: "fentry", match: matchTarget, typ: Tracing, attach: AttachTraceFEntry},
	{name: "fmod_ret", match: matchTarget, typ: Tracing, attach: AttachModifyReturn},
	{name: "fexit", match: matchTarget, typ: Tracing, attach: AttachTraceFExit},
	{name: "fentry.s", match: matchTarget, typ: Tracing, attach: AttachTraceFEntry, sleepable: true},
	{name: "fmod_ret.s", match: matchTarget, typ: Tracing, attach: AttachModifyReturn, sleepable: true},
	{name: "fexit.s", match: matchTarget, typ: Tracing, attach: AttachTraceFExit, sleepable: true},
	{name: "freplace", match: matchTarget, typ: Extension},
	{name: "lsm", match: matchTarget, typ: LSM, attach: AttachLSMMac},
	{name: "lsm.s", match: matchTarget, typ: LSM, attach: AttachLSMMac, sleepable: true},
	{name: "lsm_cgroup", match: matchTarget, typ: LSM, attach: AttachLSMCgroup},
	{name: "iter", match: matchTarget, typ: Tracing, attach: AttachTraceIter},
	{name: "iter.s", match: matchTarget, typ: Tracing, attach: AttachTraceIter, sleepable: true},
	{name: "syscall", typ: Syscall, sleepable: true},
	{name: "xdp.frags/devmap", typ: XDP, attach: AttachXDPDevmap, flags: ProgFlagXDPHasFrags},
	{name: "xdp/devmap", typ: XDP, attach: AttachXDPDevmap},
	{name: "xdp.frags/cpumap", typ: XDP, attach: AttachXDPCPUMap, flags: ProgFlagXDPHasFrags},
	{name: "xdp/cpumap", typ: XDP, attach: AttachXDPCPUMap},
	{name: "xdp.frags", typ: XDP, attach: AttachXDP, flags: ProgFlagXDPHasFrags},
	{name: "xdp", typ: XDP, attach: AttachXDP},
	{name: "perf_event", typ: PerfEvent},
	{name: "struct_ops", match: matchTarget, typ: StructOps},
	{name: "struct_ops.s", match: matchTarget, typ: StructOps, sleepable: true},
	{name: "sk_lookup", typ: SkLookup, attach: AttachSkLookup},
	{name: "netfilter", typ: Netfilter, attach: AttachNetfilter},
}

// sectionProgramInfo fills the type, attach type, target, flags and
// sleepability of p from its section name. A section no definition matches
// leaves the type unspecified: like libbpf, the object still opens, and
// loading such a program is for the engine to refuse.
func sectionProgramInfo(p *ProgramSpec) {
	sec, noAuto := strings.CutPrefix(p.Section, "?")
	p.NoAutoload = noAuto
	for _, d := range secDefs {
		var target string
		switch {
		case sec == d.name:
		case d.match == matchTarget && strings.HasPrefix(sec, d.name+"/"):
			target = sec[len(d.name)+1:]
		default:
			continue
		}
		p.Type, p.AttachType, p.AttachTo = d.typ, d.attach, target
		p.Sleepable = d.sleepable
		p.Flags = d.flags
		if d.sleepable {
			p.Flags |= ProgFlagSleepable
		}
		return
	}
}
