// Package engine is the contract between the public bpfarena API and the
// engines that run programs: the kernel (bpf(2)) and the embedded vm.
package engine

import (
	"errors"
	"github.com/bpfarena/bpfarena/internal/kconfig"
	"github.com/cilium/ebpf/btf"
	"time"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/object"
)

// ErrNotSupported is returned when an engine cannot run here (not Linux,
// no privileges, a kernel without arenas). The public package re-exports it.
var ErrNotSupported = errors.New("not supported")

// ErrPinMismatch is returned when a pin directory holds maps that differ
// from the object's (type, sizes, max_entries, flags, map_extra).
var ErrPinMismatch = errors.New("pinned maps do not match the object")

// Options are the load options both engines understand.
type Options struct {
	// LogLevel is the verifier log level (0: only on failure, 1, 2).
	LogLevel uint32
	// LogSize bounds the verifier log buffer; 0 means a default.
	LogSize int
	// InsnBudget bounds the instructions one vm run may execute;
	// 0 means the default. Ignored by the kernel engine.
	InsnBudget uint64
	// Programs, if non-nil, restricts loading to the named programs.
	Programs []string
	// PinPath, if set, is the directory the arena and maps are kept in
	// and shared through.
	PinPath string
	// Kernel is the kernel whose behaviour the vm reproduces; nil means
	// kversion.Default(). The kernel engine runs the running kernel.
	Kernel *kversion.Model
	// KernelBTF and KernelConfig, when set, are the modelled kernel's
	// types (for CO-RE) and build configuration (for __kconfig); the vm
	// otherwise reads the running kernel's.
	KernelBTF    *btf.Spec
	KernelConfig *kconfig.Config
}

// Collection is a loaded object.
type Collection interface {
	// Program returns a loaded program by name.
	Program(name string) (Program, bool)
	// Arena is the object's arena, nil if it has none.
	Arena() *arena.Arena
	// Data returns the live memory of a global data map (.bss, .data,
	// .rodata*, .kconfig), as the programs see it. Writes to it are seen
	// by programs; for read-only maps the slice must not be written.
	Data(m *object.MapSpec) ([]byte, bool)
	// Map returns a loaded map by name.
	Map(name string) (Map, bool)
	// Close releases everything the collection holds.
	Close() error
}

// Map is a loaded map.
type Map interface {
	Lookup(key []byte) ([]byte, error)
	Update(key, value []byte, flags uint64) error
	Delete(key []byte) error
	// FD is the kernel file descriptor, or -1 on the vm.
	FD() int
}

// Program is a loaded program.
type Program interface {
	Run(opts RunOptions) (RunResult, error)
	// FD is the kernel file descriptor, or -1 on the vm.
	FD() int
	// Log is the verifier log of the load (may be empty).
	Log() string
}

// RunOptions are the inputs of one test run (BPF_PROG_TEST_RUN).
type RunOptions struct {
	// Context is the ctx bytes (syscall programs: the argument struct).
	Context []byte
	// Data is the packet for tc, xdp and socket programs.
	Data []byte
	// DataOutSize is the room given for the packet out (0: len(Data)+256).
	DataOutSize int
	// ContextOutSize is the room for the ctx out (0: no ctx out).
	ContextOutSize int
	// Repeat runs the program this many times (0 or 1: once).
	Repeat uint32
	// CPU to run on; the vm uses it for bpf_get_smp_processor_id.
	CPU uint32
	// Profile counts the instructions each source line and function
	// executes and estimates their share of the time (vm engine only;
	// the kernel engine refuses it with ErrNotSupported). Runs are
	// slower while profiled.
	Profile bool
}

// RunResult is the outcome of a test run.
type RunResult struct {
	// Retval is r0 of the (last) run as the kernel reports it.
	Retval uint32
	// Duration is the mean time of one run.
	Duration   time.Duration
	DataOut    []byte
	ContextOut []byte
	// Faults are the arena faults the runs reported.
	Faults []Fault
	// Output is what the program printed (bpf_printk, stream output).
	Output string
	// Profile is the run's profile when RunOptions.Profile is set.
	Profile *Profile
}

// Profile is where the runs of a program spent their instructions and
// time, by BTF source line and by function. Instruction counts are exact.
// Time is measured for helper and kfunc calls (their own time, callbacks
// excluded) and attributed to the line of the call; the rest of the run's
// time is shared among instructions in proportion to their counts, since
// timing each instruction would cost more than running it. A program
// reached by a tail call runs unprofiled; its time is that of the
// bpf_tail_call line.
type Profile struct {
	Program  string
	Runs     uint32
	Insns    uint64        // instructions executed by all runs
	Calls    uint64        // helper and kfunc calls
	Duration time.Duration // wall time of all runs
	// Lines and Funcs are sorted hottest first (by time, then by
	// instructions).
	Lines []ProfileLine
	Funcs []ProfileFunc
	// Insn are the per-instruction counts by instruction index of the
	// program (an ld_imm64 is one instruction).
	Insn []ProfileInsn
}

// ProfileLine is one source line of a profile. Instructions without line
// info count under an empty File.
type ProfileLine struct {
	File   string
	Line   uint32
	Source string // the line's text, from BTF
	Func   string // the function the line's first instruction belongs to
	Insns  uint64
	Calls  uint64
	Time   time.Duration
}

// ProfileFunc is one function (the program or a subprogram) of a profile.
type ProfileFunc struct {
	Name  string
	Insns uint64
	Calls uint64
	Time  time.Duration
}

// ProfileInsn is the count of one instruction.
type ProfileInsn struct {
	Index int // instruction index
	Slot  int // 8-byte slot, as disassemblers and faults number them
	Count uint64
	Calls uint64
	Time  time.Duration
	Func  string // the function it belongs to
	File  string // its source line, if BTF has one
	Line  uint32
}

// FaultKind says whether a faulting access read or wrote.
type FaultKind string

// Fault kinds.
const (
	FaultRead  FaultKind = "read"
	FaultWrite FaultKind = "write"
)

// Fault is an arena access to an absent or reserved page.
type Fault struct {
	Program string
	Kind    FaultKind
	Address uint64
	Insn    int    // instruction slot, -1 if unknown
	Line    string // "file.c:31", empty if unknown
}
