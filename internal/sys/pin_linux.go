package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Commands of pinning.
const (
	CmdObjPin Cmd = 6
	CmdObjGet Cmd = 7
)

// objAttr is the BPF_OBJ_PIN / BPF_OBJ_GET part of union bpf_attr.
type objAttr struct {
	Pathname  Pointer
	BPFFD     uint32
	FileFlags uint32
	PathFD    int32
	_         uint32
}

// ObjPin pins the object fd at path, which must lie on a bpf filesystem.
func ObjPin(fd *FD, path string) error {
	n, err := fd.value()
	if err != nil {
		return err
	}
	attr := objAttr{Pathname: StringPointer(path), BPFFD: n}
	_, err = BPF(CmdObjPin, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	keepAlive(path)
	return err
}

// ObjGet opens the object pinned at path.
func ObjGet(path string) (*FD, error) {
	attr := objAttr{Pathname: StringPointer(path)}
	fd, err := BPF(CmdObjGet, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	keepAlive(path)
	if err != nil {
		return nil, err
	}
	return NewFD(int(fd)), nil
}

// BPFFSMagic is the statfs type of a bpf filesystem.
const BPFFSMagic = 0xcafe4a11

// OnBPFFS reports whether path lies on a bpf filesystem.
func OnBPFFS(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && uint32(st.Type) == BPFFSMagic
}
