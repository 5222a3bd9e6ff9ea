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
	Tracing            ProgramType = 26
	StructOps          ProgramType = 27
	Extension          ProgramType = 28
	LSM                ProgramType = 29
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
	AttachXDP          AttachType = 37
	AttachTCXIngress   AttachType = 46
	AttachTCXEgress    AttachType = 47
)
