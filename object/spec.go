// Package object reads clang-compiled BPF ELF objects into a Spec: the
// programs, maps, global variables, BTF and relocations that an engine needs
// to load them. It only parses; nothing here talks to a kernel.
//
// The reading follows libbpf: section names give program types, every
// program is linked with the subprograms it reaches, BTF-defined maps come
// from .maps, each global data section becomes an array map, arena globals
// (.addr_space.1) become the initial image of the one arena map, and
// __ksym/__kconfig externs are collected. Objects libbpf refuses are
// refused here with libbpf's reason and errno.
//
// Linked instructions are ready for an engine except for the values only
// known at load time. Each such instruction has a Relocation, and its
// source register and constant are already set as follows:
//
//   - RelocMap: ld_imm64, Src = asm.PseudoMapFD, Constant = 0.
//     The engine puts the map fd (or its own handle) in the low 32 bits.
//   - RelocMapValue, RelocKconfig: ld_imm64, Src = asm.PseudoMapValue,
//     Constant = Offset<<32. The engine puts the map fd in the low 32 bits.
//   - RelocKfunc on a call: Src = asm.PseudoKfuncCall, Constant = 0,
//     Offset = 0. The engine sets the kfunc's BTF id (and module index).
//   - RelocKfunc on ld_imm64 (the address of a kfunc), RelocKsym: Constant
//     = 0; Src = asm.PseudoBTFID for typed ksyms, 0 for typeless ones.
//
// Calls to subprograms (Src = asm.PseudoCall) and function pointers
// (ld_imm64 with Src = asm.PseudoFunc, used for callbacks) already hold the
// distance in slots to their target in the linked program, as the kernel
// wants them; they carry no Relocation. A ld_imm64 occupies two slots, so
// instruction indexes (keys of Relocations, CORERelos, Line.Index,
// Func.Index) and slots (Func.Slot, Line.Slot, offsets in func and line
// info for the kernel) differ after the first one.
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
	// RawBTF is the .BTF section made acceptable to the kernel as it is:
	// DATASEC sizes and variable offsets come from the section headers
	// and symbol table (variables sorted by offset), .kconfig gets the
	// layout of the .kconfig map, .ksyms entries become 4-byte int
	// placeholders (a "dummy_ksym" VAR is appended for kfuncs), and extern
	// linkage becomes global. Every type id and string offset of the file
	// is kept (types and strings are only appended), so ids from BTF
	// (Func.TypeID, BTF.TypeID) are valid in RawBTF. nil without BTF.
	//
	// BTF itself is read by cilium/ebpf, which refuses to iterate objects
	// with typed __ksym variables (BTF.All fails on the .ksyms DATASEC);
	// look types up by id or name instead.
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
	// NoAutoload is set for a section name starting with "?" (libbpf's
	// autoload off): the program is loaded only when asked for by name.
	// Section keeps the "?"; the type comes from the rest of the name.
	NoAutoload bool
	// Flags are the prog_flags the section name implies
	// (ProgFlagSleepable, ProgFlagXDPHasFrags).
	Flags   uint32
	License string
	// Instructions is the linked program: the entry function, then each
	// function it reaches, once, in the order first reached. Instructions
	// that need a value only known at load time (map fds, kfunc ids)
	// carry a Relocation; see the package documentation for how they
	// are encoded.
	Instructions asm.Instructions
	// Relocations, keyed by index into Instructions.
	Relocations map[int]Relocation
	// Funcs are the functions making up the linked program, the entry
	// first, with their first instruction index and BTF type.
	Funcs []Func
	// Lines is BTF line info: the source line of instruction ranges,
	// sorted by instruction index. A record covers the instructions up to
	// the next one; LineAt finds it.
	Lines []Line
	// CORERelos are CO-RE relocations keyed by instruction index (nil if
	// there are none); their types belong to Spec.BTF.
	CORERelos map[int]*btf.CORERelocation
	// Tags are the decl tags of the entry function in BTF order (e.g.
	// "comment:test_expect_success", "comment:test_retval=0").
	Tags []string
}

// Func is one function of a linked program.
type Func struct {
	Name  string
	Index int       // index into ProgramSpec.Instructions
	Slot  int       // same position in 8-byte slots
	Type  *btf.Func // nil without BTF
	// ArenaArgs[i] is true when argument i carries the decl tag
	// "arg:arena" (__arg_arena). One entry per parameter; nil without BTF.
	// (A pointer to a type tagged "arena", IsArenaPointer, counts too on
	// kernels that read type tags.)
	ArenaArgs []bool
	// Global is the BTF linkage (the symbol binding without BTF): the
	// verifier checks global functions on their own, from their BTF
	// prototype, which is what makes __arg_arena matter.
	Global bool
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

// gplCompatible are the license strings the kernel counts as GPL
// compatible (license_is_gpl_compatible).
var gplCompatible = map[string]bool{
	"GPL": true, "GPL v2": true, "GPL and additional rights": true,
	"Dual BSD/GPL": true, "Dual MIT/GPL": true, "Dual MPL/GPL": true,
}

// GPLCompatible reports whether the kernel treats license as GPL
// compatible: only such programs may call kfuncs and GPL-only helpers.
func GPLCompatible(license string) bool { return gplCompatible[license] }
