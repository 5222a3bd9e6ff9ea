// Package object reads clang-compiled BPF ELF objects into a Spec: the
// programs, maps, global variables, BTF and relocations that an engine needs
// to load them. It only parses; nothing here talks to a kernel.
package object

import (
	"github.com/bpfarena/bpfarena/asm"
	"github.com/cilium/ebpf/btf"
)

// Spec is a parsed object file.
type Spec struct {
	Path    string
	License string
	// Programs are the entry programs in section order, each linked with
	// the subprograms it calls.
	Programs []*ProgramSpec
	// Maps are the BTF-defined maps of .maps and the maps that back global
	// data (.bss, .data, .rodata*, .kconfig), in the order libbpf creates
	// them. The arena, if any, is among them.
	Maps []*MapSpec
	// Variables are every global variable, arena globals included.
	Variables []*VariableSpec
	// Externs are the __ksym and __kconfig externs the programs reference.
	Externs []*ExternSpec
	// BTF is the object's type information (nil if it has none).
	BTF *btf.Spec
	// RawBTF is the .BTF section as it is in the file, with DATASEC sizes
	// and offsets filled in from the symbol table.
	RawBTF []byte
}

// ProgramSpec is one entry program, linked: the subprograms it calls are
// appended after it and calls to them are resolved to relative offsets.
type ProgramSpec struct {
	Name       string // function name
	Section    string // ELF section name, e.g. "syscall" or "tc"
	Type       ProgramType
	AttachType AttachType
	// AttachTo is the part of the section name after the prefix
	// (e.g. the tracepoint in "tp/syscalls/sys_enter_getpid").
	AttachTo  string
	Sleepable bool
	// Flags are the prog_flags the section name implies
	// (ProgFlagSleepable, ProgFlagXDPHasFrags).
	Flags   uint32
	License string
	// Instructions is the linked program. Instructions that need a value
	// only known at load time (map fds, kfunc ids) carry a Relocation.
	Instructions asm.Instructions
	// Relocations, keyed by index into Instructions.
	Relocations map[int]Relocation
	// Funcs are the functions making up the linked program, the entry
	// first, with their first instruction index and BTF type.
	Funcs []Func
	// Lines is BTF line info: the source line of instruction ranges,
	// sorted by instruction index.
	Lines []Line
	// CORERelos are CO-RE relocations keyed by instruction index.
	CORERelos map[int]*btf.CORERelocation
	// Tags are the program's BTF decl tags (e.g. "comment:test_retval=0").
	Tags []string
}

// Func is one function of a linked program.
type Func struct {
	Name  string
	Index int       // index into ProgramSpec.Instructions
	Slot  int       // same position in 8-byte slots
	Type  *btf.Func // nil without BTF
	// ArenaArgs[i] is true when argument i carries the decl tag "arg:arena".
	ArenaArgs []bool
	Global    bool
	// TypeID is the id of Type in Spec.BTF and Spec.RawBTF (0 without
	// BTF): what bpf_func_info.type_id needs.
	TypeID btf.TypeID
}

// Line is one BTF line info record.
type Line struct {
	Index  int // instruction index in the linked program
	Slot   int
	File   string
	Line   uint32
	Column uint32
	Source string // the text of the source line
}

// RelocationKind says what a relocated instruction refers to.
type RelocationKind int

// Relocation kinds.
const (
	// RelocMap: ld_imm64 of a map's address (pseudo map fd).
	RelocMap RelocationKind = iota + 1
	// RelocMapValue: ld_imm64 of an address inside a map's value
	// (global data, arena globals); Offset is the offset in the value.
	RelocMapValue
	// RelocKfunc: a call to a kernel function (__ksym extern function).
	RelocKfunc
	// RelocKsym: ld_imm64 of a kernel variable (__ksym extern variable).
	RelocKsym
	// RelocKconfig: ld_imm64 of the .kconfig map value at Offset.
	RelocKconfig
)

// Relocation ties an instruction to a map or extern.
type Relocation struct {
	Kind   RelocationKind
	Map    *MapSpec    // RelocMap, RelocMapValue, RelocKconfig
	Offset uint32      // RelocMapValue, RelocKconfig: offset in the value
	Extern *ExternSpec // RelocKfunc, RelocKsym, RelocKconfig
	Symbol string      // the ELF symbol the relocation names
}
