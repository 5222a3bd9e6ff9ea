package object

import "github.com/cilium/ebpf/btf"

// MapType is a kernel map type (enum bpf_map_type).
type MapType uint32

// Map types in use by arena programs.
const (
	Hash           MapType = 1
	Array          MapType = 2
	ProgArray      MapType = 3
	PerfEventArray MapType = 4
	PerCPUHash     MapType = 5
	PerCPUArray    MapType = 6
	LRUHash        MapType = 9
	LRUPerCPUHash  MapType = 10
	ArrayOfMaps    MapType = 12
	HashOfMaps     MapType = 13
	RingBuf        MapType = 27
	Arena          MapType = 33
)

// Map flags that matter to arenas and global data.
const (
	FlagRdonlyProg  = 1 << 7
	FlagMmapable    = 1 << 10
	FlagSegvOnFault = 1 << 17
	FlagNoUserConv  = 1 << 18
)

// PageSize is the arena page size on the supported platforms.
const PageSize = 4096

// MapSpec describes a map to create.
type MapSpec struct {
	Name       string
	Type       MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	MapExtra   uint64
	NumaNode   uint32
	Pinning    uint32
	Key, Value btf.Type // BTF types, if declared with __type
	InnerMap   *MapSpec // for map-in-map types
	// Slots are the static initial entries of a program array or
	// map-in-map (.values = { [key] = &prog_or_map }), by key.
	Slots []MapSlot
	// Section is the ELF section the map comes from: ".maps" for
	// BTF-defined maps, or the data section it backs (".bss", ".data",
	// ".rodata", ".kconfig", ".addr_space.1").
	Section string
	// Contents is the initial value of a global data map (ValueSize bytes),
	// or for the arena the initial image of its globals (copied to offset 0).
	Contents []byte
	// ReadOnly data maps (.rodata*, .kconfig) are frozen after their
	// contents are written.
	ReadOnly bool
}

// IsArena reports whether m is an arena map.
func (m *MapSpec) IsArena() bool { return m.Type == Arena }

// VariableSpec is a global variable.
type VariableSpec struct {
	Name    string
	Section string   // ".bss", ".data", ".rodata", ".addr_space.1", ...
	Map     *MapSpec // the map holding it (the arena for arena globals)
	Offset  uint32   // offset in the map's value (in the arena for arena globals)
	Size    uint32
	Type    btf.Type // nil without BTF
}

// ExternKind distinguishes extern kinds.
type ExternKind int

// Extern kinds.
const (
	ExternKfunc ExternKind = iota + 1
	ExternKsym
	ExternKconfig
)

// ExternSpec is an extern symbol resolved at load time.
type ExternSpec struct {
	Name string
	Kind ExternKind
	Weak bool
	Type btf.Type // *btf.Func for kfuncs, the variable's type otherwise
	// Offset in the .kconfig map for ExternKconfig.
	Offset uint32
}

// MapSlot is one static initial entry of a program array (a program, by
// function name) or of a map-in-map (a map, by name).
type MapSlot struct {
	Key  uint32
	Name string
}
