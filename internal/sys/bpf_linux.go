//go:build linux

package sys

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Cmd is a bpf(2) command (enum bpf_cmd).
type Cmd uint32

// The commands this package issues.
const (
	CmdMapCreate          Cmd = 0
	CmdMapLookupElem      Cmd = 1
	CmdMapUpdateElem      Cmd = 2
	CmdMapDeleteElem      Cmd = 3
	CmdMapGetNextKey      Cmd = 4
	CmdProgLoad           Cmd = 5
	CmdProgTestRun        Cmd = 10
	CmdObjGetInfoByFD     Cmd = 15
	CmdBTFLoad            Cmd = 18
	CmdMapFreeze          Cmd = 22
	CmdProgStreamReadByFD Cmd = 37
)

// ObjNameLen is the size of a kernel object name including its NUL.
const ObjNameLen = 16

// ObjName is a kernel object name (map_name, prog_name).
type ObjName [ObjNameLen]byte

// NewObjName truncates name to what the kernel stores.
func NewObjName(name string) ObjName {
	var n ObjName
	copy(n[:ObjNameLen-1], name)
	return n
}

// BPF issues one bpf(2) command. size is the size of the attr the caller
// fills; the kernel zero-extends shorter attrs and rejects non-zero bytes
// it does not know, so passing exactly our struct is safe on older kernels
// as long as the fields they lack stay zero.
func BPF(cmd Cmd, attr unsafe.Pointer, size uintptr) (uintptr, error) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
		// A signal arriving while the verifier works makes PROG_LOAD
		// and BTF_LOAD fail with EAGAIN/EINTR; the kernel expects a retry.
		if errno == unix.EINTR || (errno == unix.EAGAIN && (cmd == CmdProgLoad || cmd == CmdBTFLoad)) {
			continue
		}
		if errno != 0 {
			return r, errno
		}
		return r, nil
	}
}

// MapCreateAttr is the BPF_MAP_CREATE part of union bpf_attr.
type MapCreateAttr struct {
	MapType               uint32
	KeySize               uint32
	ValueSize             uint32
	MaxEntries            uint32
	MapFlags              uint32
	InnerMapFD            uint32
	NumaNode              uint32
	MapName               ObjName
	MapIfindex            uint32
	BTFFD                 uint32
	BTFKeyTypeID          uint32
	BTFValueTypeID        uint32
	BTFVmlinuxValueTypeID uint32
	MapExtra              uint64
	ValueTypeBTFObjFD     int32
	MapTokenFD            int32
}

// MapCreate creates a map.
func MapCreate(attr *MapCreateAttr) (*FD, error) {
	fd, err := BPF(CmdMapCreate, unsafe.Pointer(attr), unsafe.Sizeof(*attr))
	if err != nil {
		return nil, err
	}
	return NewFD(int(fd)), nil
}

// mapElemAttr is the element-command part of union bpf_attr.
type mapElemAttr struct {
	MapFD uint32
	_     uint32
	Key   Pointer
	Value Pointer // value or next_key
	Flags uint64
}

// MapLookup reads the value of key into value.
func MapLookup(fd *FD, key, value []byte) error {
	n, err := fd.value()
	if err != nil {
		return err
	}
	attr := mapElemAttr{MapFD: n, Key: SlicePointer(key), Value: SlicePointer(value)}
	_, err = BPF(CmdMapLookupElem, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	keepAlive(key, value)
	return err
}

// MapUpdate writes value at key; flags are BPF_ANY (0), BPF_NOEXIST (1),
// BPF_EXIST (2) or BPF_F_LOCK (4).
func MapUpdate(fd *FD, key, value []byte, flags uint64) error {
	n, err := fd.value()
	if err != nil {
		return err
	}
	attr := mapElemAttr{MapFD: n, Key: SlicePointer(key), Value: SlicePointer(value), Flags: flags}
	_, err = BPF(CmdMapUpdateElem, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	keepAlive(key, value)
	return err
}

// MapDelete deletes key.
func MapDelete(fd *FD, key []byte) error {
	n, err := fd.value()
	if err != nil {
		return err
	}
	attr := mapElemAttr{MapFD: n, Key: SlicePointer(key)}
	_, err = BPF(CmdMapDeleteElem, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	keepAlive(key)
	return err
}

// MapGetNextKey stores the key after key (the first key for a nil key)
// in next.
func MapGetNextKey(fd *FD, key, next []byte) error {
	n, err := fd.value()
	if err != nil {
		return err
	}
	attr := mapElemAttr{MapFD: n, Key: SlicePointer(key), Value: SlicePointer(next)}
	_, err = BPF(CmdMapGetNextKey, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	keepAlive(key, next)
	return err
}

// MapFreeze makes a map read-only for user space (BPF_MAP_FREEZE).
func MapFreeze(fd *FD) error {
	n, err := fd.value()
	if err != nil {
		return err
	}
	attr := struct{ MapFD uint32 }{n}
	_, err = BPF(CmdMapFreeze, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// ProgLoadAttr is the BPF_PROG_LOAD part of union bpf_attr.
type ProgLoadAttr struct {
	ProgType           uint32
	InsnCnt            uint32
	Insns              Pointer
	License            Pointer
	LogLevel           uint32
	LogSize            uint32
	LogBuf             Pointer
	KernVersion        uint32
	ProgFlags          uint32
	ProgName           ObjName
	ProgIfindex        uint32
	ExpectedAttachType uint32
	ProgBTFFD          uint32
	FuncInfoRecSize    uint32
	FuncInfo           Pointer
	FuncInfoCnt        uint32
	LineInfoRecSize    uint32
	LineInfo           Pointer
	LineInfoCnt        uint32
	AttachBTFID        uint32
	AttachBTFObjFD     uint32
	CoreReloCnt        uint32
	FDArray            Pointer
	CoreRelos          Pointer
	CoreReloRecSize    uint32
	LogTrueSize        uint32
	ProgTokenFD        int32
	FDArrayCnt         uint32
}

// Program flags.
const (
	// ProgFlagSleepable is BPF_F_SLEEPABLE.
	ProgFlagSleepable = 1 << 4
)

// Sizes of the BTF ext records the kernel takes with PROG_LOAD.
const (
	FuncInfoSize = 8  // struct bpf_func_info
	LineInfoSize = 16 // struct bpf_line_info
)

// ProgLoadOptions are the inputs of ProgLoad besides the attr itself.
type ProgLoadOptions struct {
	// LogLevel asked for; 0 still retries with level 1 on failure so the
	// error carries the verifier's reason.
	LogLevel uint32
	// LogSize is the initial buffer size; it grows on ENOSPC.
	LogSize int
}

// DefaultLogSize is the first verifier log buffer size.
const DefaultLogSize = 64 << 10

// maxLogSize bounds the verifier log buffer. The kernel takes up to
// UINT_MAX >> 2 bytes, but level 2 logs of large programs can run to
// gigabytes; past this size the log is reported as truncated.
const maxLogSize = 256 << 20

// LoadError is a failed PROG_LOAD or BTF_LOAD with the kernel's log.
type LoadError struct {
	Errno unix.Errno
	Log   string
	// Truncated is set when even the largest buffer did not hold the log.
	Truncated bool
}

func (e *LoadError) Error() string { return e.Errno.Error() }

// Unwrap gives the errno so errors.Is(err, unix.EACCES) works.
func (e *LoadError) Unwrap() error { return e.Errno }

// minLogSize is the smallest log buffer every kernel takes.
const minLogSize = 128

// ProgLoad loads a program and returns it with the verifier log (empty
// at log level 0 on success). On failure the error is a *LoadError.
func ProgLoad(attr *ProgLoadAttr, opts ProgLoadOptions) (*FD, string, error) {
	size := opts.LogSize
	if size <= 0 {
		size = DefaultLogSize
	}
	// Before 6.4 the kernel refuses a log buffer under 128 bytes (EINVAL).
	size = max(size, minLogSize)
	level := opts.LogLevel
	var buf []byte
	if level > 0 {
		buf = make([]byte, size)
	}
	for {
		attr.LogLevel = level
		attr.LogBuf = SlicePointer(buf)
		attr.LogSize = uint32(len(buf))
		attr.LogTrueSize = 0
		fd, err := BPF(CmdProgLoad, unsafe.Pointer(attr), unsafe.Sizeof(*attr))
		keepAlive(buf)
		if err == nil {
			return NewFD(int(fd)), cString(buf), nil
		}
		errno, _ := err.(unix.Errno)
		switch {
		case level == 0:
			// Load again with a log to learn why.
			level = 1
			buf = make([]byte, size)
			continue
		case errno == unix.ENOSPC && len(buf) < maxLogSize:
			// The log did not fit: grow to what the kernel says it
			// needs (6.4+), else double.
			n := int(attr.LogTrueSize)
			if n <= len(buf) {
				n = 2 * len(buf)
			}
			buf = make([]byte, min(n, maxLogSize))
			continue
		}
		return nil, cString(buf), &LoadError{Errno: errno, Log: cString(buf), Truncated: errno == unix.ENOSPC}
	}
}

// BTFLoadAttr is the BPF_BTF_LOAD part of union bpf_attr.
type BTFLoadAttr struct {
	BTF         Pointer
	LogBuf      Pointer
	BTFSize     uint32
	LogSize     uint32
	LogLevel    uint32
	LogTrueSize uint32
	BTFFlags    uint32
	BTFTokenFD  int32
}

// BTFLoad loads raw BTF. On failure the error is a *LoadError carrying the
// kernel's BTF log.
func BTFLoad(raw []byte) (*FD, error) {
	var buf []byte
	for {
		attr := BTFLoadAttr{BTF: SlicePointer(raw), BTFSize: uint32(len(raw))}
		if buf != nil {
			attr.LogBuf = SlicePointer(buf)
			attr.LogSize = uint32(len(buf))
			attr.LogLevel = 1
		}
		fd, err := BPF(CmdBTFLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		keepAlive(raw, buf)
		if err == nil {
			return NewFD(int(fd)), nil
		}
		errno, _ := err.(unix.Errno)
		switch {
		case buf == nil:
			buf = make([]byte, DefaultLogSize)
			continue
		case errno == unix.ENOSPC && len(buf) < 16<<20:
			buf = make([]byte, 4*len(buf))
			continue
		}
		return nil, &LoadError{Errno: errno, Log: cString(buf)}
	}
}

// ProgRunAttr is the BPF_PROG_TEST_RUN part of union bpf_attr.
type ProgRunAttr struct {
	ProgFD      uint32
	Retval      uint32
	DataSizeIn  uint32
	DataSizeOut uint32
	DataIn      Pointer
	DataOut     Pointer
	Repeat      uint32
	Duration    uint32
	CtxSizeIn   uint32
	CtxSizeOut  uint32
	CtxIn       Pointer
	CtxOut      Pointer
	Flags       uint32
	CPU         uint32
	BatchSize   uint32
	_           uint32
}

// TestRun flags.
const (
	// TestRunOnCPU is BPF_F_TEST_RUN_ON_CPU: run on attr.CPU.
	TestRunOnCPU = 1 << 0
)

// ProgRunOptions are the inputs of ProgTestRun.
type ProgRunOptions struct {
	DataIn  []byte
	DataOut []byte // room for the packet out
	CtxIn   []byte
	CtxOut  []byte // room for the ctx out
	Repeat  uint32
	Flags   uint32
	CPU     uint32
}

// ProgRunResult is the outcome of ProgTestRun; DataOut and CtxOut are the
// options' buffers cut to what the kernel wrote.
type ProgRunResult struct {
	Retval   uint32
	Duration uint32 // mean ns per run
	DataOut  []byte
	CtxOut   []byte
}

// ProgTestRun runs a program once or Repeat times (BPF_PROG_TEST_RUN).
func ProgTestRun(fd *FD, opts ProgRunOptions) (ProgRunResult, error) {
	n, err := fd.value()
	if err != nil {
		return ProgRunResult{}, err
	}
	attr := ProgRunAttr{
		ProgFD:      n,
		DataSizeIn:  uint32(len(opts.DataIn)),
		DataSizeOut: uint32(len(opts.DataOut)),
		DataIn:      SlicePointer(opts.DataIn),
		DataOut:     SlicePointer(opts.DataOut),
		Repeat:      opts.Repeat,
		CtxSizeIn:   uint32(len(opts.CtxIn)),
		CtxSizeOut:  uint32(len(opts.CtxOut)),
		CtxIn:       SlicePointer(opts.CtxIn),
		CtxOut:      SlicePointer(opts.CtxOut),
		Flags:       opts.Flags,
		CPU:         opts.CPU,
	}
	_, err = BPF(CmdProgTestRun, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	keepAlive(opts.DataIn, opts.DataOut, opts.CtxIn, opts.CtxOut)
	if err != nil {
		return ProgRunResult{}, err
	}
	res := ProgRunResult{Retval: attr.Retval, Duration: attr.Duration}
	if opts.DataOut != nil {
		res.DataOut = opts.DataOut[:min(int(attr.DataSizeOut), len(opts.DataOut))]
	}
	if opts.CtxOut != nil {
		res.CtxOut = opts.CtxOut[:min(int(attr.CtxSizeOut), len(opts.CtxOut))]
	}
	return res, nil
}

// infoAttr is the BPF_OBJ_GET_INFO_BY_FD part of union bpf_attr.
type infoAttr struct {
	BPFFD   uint32
	InfoLen uint32
	Info    Pointer
}

// ObjInfo fills info (struct bpf_prog_info, bpf_map_info, ...) for fd and
// returns the length the kernel wrote.
func ObjInfo(fd *FD, info []byte) (int, error) {
	n, err := fd.value()
	if err != nil {
		return 0, err
	}
	attr := infoAttr{BPFFD: n, InfoLen: uint32(len(info)), Info: SlicePointer(info)}
	_, err = BPF(CmdObjGetInfoByFD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	keepAlive(info)
	if err != nil {
		return 0, err
	}
	return int(attr.InfoLen), nil
}

// MapInfo is the start of struct bpf_map_info.
type MapInfo struct {
	Type                  uint32
	ID                    uint32
	KeySize               uint32
	ValueSize             uint32
	MaxEntries            uint32
	MapFlags              uint32
	Name                  ObjName
	Ifindex               uint32
	BTFVmlinuxValueTypeID uint32
	NetnsDev              uint64
	NetnsIno              uint64
	BTFID                 uint32
	BTFKeyTypeID          uint32
	BTFValueTypeID        uint32
	BTFVmlinuxID          uint32
	MapExtra              uint64
}

// GetMapInfo returns the kernel's view of a map.
func GetMapInfo(fd *FD) (MapInfo, error) {
	var info MapInfo
	b := unsafe.Slice((*byte)(unsafe.Pointer(&info)), unsafe.Sizeof(info))
	_, err := ObjInfo(fd, b)
	return info, err
}

// Program stream ids (BPF_STREAM_STDOUT, BPF_STREAM_STDERR).
const (
	StreamStdout = 1
	StreamStderr = 2
)

// streamReadAttr is the BPF_PROG_STREAM_READ_BY_FD part of union bpf_attr.
type streamReadAttr struct {
	StreamBuf    Pointer
	StreamBufLen uint32
	StreamID     uint32
	ProgFD       uint32
	_            uint32
}

// ProgStreamRead drains a program's stream (6.17+): everything written to
// it since the last read. A kernel without streams gives an error
// satisfying errors.Is(err, ErrNoStreams).
func ProgStreamRead(fd *FD, stream uint32) ([]byte, error) {
	progFD, err := fd.value()
	if err != nil {
		return nil, err
	}
	var out []byte
	buf := make([]byte, 16<<10)
	for {
		attr := streamReadAttr{StreamBuf: SlicePointer(buf), StreamBufLen: uint32(len(buf)), StreamID: stream, ProgFD: progFD}
		n, err := BPF(CmdProgStreamReadByFD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		keepAlive(buf)
		if err != nil {
			if errors.Is(err, unix.EINVAL) && len(out) == 0 {
				return nil, fmt.Errorf("%w: %w", ErrNoStreams, err)
			}
			return out, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

// ErrNoStreams means the kernel cannot read program streams (before 6.17).
var ErrNoStreams = errors.New("program streams not supported by this kernel")

// cString is b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
