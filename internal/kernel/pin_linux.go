package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/sys"
	"golang.org/x/sys/unix"
)

// Pins on the kernel engine: every map of the object pinned in the
// directory (on a bpf filesystem) under its name, and beside them
// metaPin, a one-element array holding the arena's user address, which a
// later process must map the arena at.
const (
	metaPin      = "bpfarena_meta"
	defaultBPFFS = "/sys/fs/bpf"
)

// pinName is a map's file name among the pins: bpffs reserves names with
// dots, so ".bss" is pinned as "_bss", as libbpf does.
func pinName(name string) string { return strings.ReplaceAll(name, ".", "_") }

// openPinDir makes dir, on a bpf filesystem. The usual mount point is
// mounted if nothing is mounted there and this process may.
func openPinDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if strings.HasPrefix(abs+"/", defaultBPFFS+"/") && !sys.OnBPFFS(defaultBPFFS) {
		if err := unix.Mount("bpf", defaultBPFFS, "bpf", 0, "mode=0700"); err != nil {
			return fmt.Errorf("pin directory %s: %s is not a bpf filesystem and mounting one failed: %w", dir, defaultBPFFS, err)
		}
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("pin directory: %w", err)
	}
	if !sys.OnBPFFS(abs) {
		return fmt.Errorf("pin directory %s is not on a bpf filesystem (mount -t bpf bpf %s): %w", dir, defaultBPFFS, unix.EINVAL)
	}
	return nil
}

// pinnedMap opens the map pinned as name in dir, if there is one, and
// checks it is the map attr would create.
func pinnedMap(dir, name string, attr *sys.MapCreateAttr) (*sys.FD, error) {
	fd, err := sys.ObjGet(filepath.Join(dir, name))
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pinned map %s: %w", filepath.Join(dir, name), err)
	}
	info, err := sys.GetMapInfo(fd)
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("pinned map %s: %w", filepath.Join(dir, name), err)
	}
	if info.Type != attr.MapType || info.KeySize != attr.KeySize || info.ValueSize != attr.ValueSize ||
		info.MaxEntries != attr.MaxEntries || info.MapFlags != attr.MapFlags || info.MapExtra != attr.MapExtra {
		fd.Close()
		return nil, fmt.Errorf("pinned map %s is type %d key %d value %d max_entries %d flags %#x map_extra %#x, the object's is type %d key %d value %d max_entries %d flags %#x map_extra %#x: %w",
			filepath.Join(dir, name), info.Type, info.KeySize, info.ValueSize, info.MaxEntries, info.MapFlags, info.MapExtra,
			attr.MapType, attr.KeySize, attr.ValueSize, attr.MaxEntries, attr.MapFlags, attr.MapExtra, engine.ErrPinMismatch)
	}
	return fd, nil
}

var metaAttr = sys.MapCreateAttr{MapType: 2, KeySize: 4, ValueSize: 8, MaxEntries: 1}

// pinnedArenaAddr reads the arena address recorded in dir, 0 if none.
func pinnedArenaAddr(dir string) (uint64, error) {
	fd, err := pinnedMap(dir, metaPin, &metaAttr)
	if err != nil || fd == nil {
		return 0, err
	}
	defer fd.Close()
	v := make([]byte, 8)
	if err := sys.MapLookup(fd, make([]byte, 4), v); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(v), nil
}

// recordArenaAddr pins the meta map with the arena's address.
func recordArenaAddr(dir string, addr uint64) error {
	attr := metaAttr
	attr.MapName = sys.NewObjName(metaPin)
	fd, err := sys.MapCreate(&attr)
	if err != nil {
		return fmt.Errorf("pin %s: %w", metaPin, mapCreateError(err))
	}
	defer fd.Close()
	if err := sys.MapUpdate(fd, make([]byte, 4), binary.LittleEndian.AppendUint64(nil, addr), 0); err != nil {
		return err
	}
	return sys.ObjPin(fd, filepath.Join(dir, metaPin))
}

// IsPinDir reports whether dir is a kernel pin directory (on bpffs).
func IsPinDir(dir string) bool { return sys.OnBPFFS(dir) }

// Unpin removes the pins in dir and dir itself if it is then empty.
func Unpin(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("unpin %s: %w", dir, err)
	}
	var errs []error
	for _, e := range ents {
		if !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	_ = os.Remove(dir)
	return errors.Join(errs...)
}
