package object

// ProgramType is a kernel program type (enum bpf_prog_type).
type ProgramType uint32

// Program types.
const (
	UnspecifiedProgram ProgramType = 0
	SocketFilter       ProgramType = 1
	Kprobe             ProgramType = 2
	SchedCLS           ProgramType = 3
	SchedACT           ProgramType = 4
	TracePoint         ProgramType = 5
	XDP                ProgramType = 6
	PerfEvent          ProgramType = 7
	RawTracepoint      ProgramType = 17
	RawTracepointW     ProgramType = 24 // BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE
	Tracing            ProgramType = 26
	StructOps          ProgramType = 27
	Extension          ProgramType = 28
	LSM                ProgramType = 29
	SkLookup           ProgramType = 30
	Netfilter          ProgramType = 32
	Syscall            ProgramType = 31
)

// AttachType is a kernel attach type (enum bpf_attach_type).
type AttachType uint32

// Attach types used by the section names this package understands.
const (
	AttachNone         AttachType = 0
	AttachTraceRawTp   AttachType = 23
	AttachTraceFEntry  AttachType = 24
	AttachTraceFExit   AttachType = 25
	AttachModifyReturn AttachType = 26
	AttachLSMMac       AttachType = 27
	AttachTraceIter    AttachType = 28
	AttachXDPDevmap    AttachType = 33
	AttachXDPCPUMap    AttachType = 35
	AttachSkLookup     AttachType = 36
	AttachXDP          AttachType = 37
	AttachKprobeMulti  AttachType = 42
	AttachLSMCgroup    AttachType = 43
	AttachNetfilter    AttachType = 45
	AttachTCXIngress   AttachType = 46
	AttachTCXEgress    AttachType = 47
	AttachUprobeMulti  AttachType = 48
)

// Program load flags (prog_flags of BPF_PROG_LOAD) implied by section names.
const (
	ProgFlagSleepable   = 1 << 4 // BPF_F_SLEEPABLE
	ProgFlagXDPHasFrags = 1 << 5 // BPF_F_XDP_HAS_FRAGS
)
