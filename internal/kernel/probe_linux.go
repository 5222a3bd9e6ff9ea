//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"sync"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/sys"
	"github.com/bpfarena/bpfarena/object"
	"golang.org/x/sys/unix"
)

// Probe results are cached once they succeed; failures are not, because
// they can depend on the caller's privileges, which may change.
var (
	probeMu        sync.Mutex
	bpfOK, arenaOK bool
)

// probe checks that this process can use bpf(2), and arenas if the object
// needs one, by creating (and closing) a small map of each kind. The ways
// that fails become engine.ErrNotSupported with the reason.
func probe() error { return probeFor(true) }

// ProbeArena reports whether this process can create arena maps here,
// and if not, why (wrapping engine.ErrNotSupported).
func ProbeArena() error { return probeFor(true) }

func probeFor(needArena bool) error {
	probeMu.Lock()
	defer probeMu.Unlock()
	if !bpfOK {
		fd, err := sys.MapCreate(&sys.MapCreateAttr{MapType: uint32(object.Array), KeySize: 4, ValueSize: 4, MaxEntries: 1})
		switch {
		case err == nil:
			fd.Close()
			bpfOK = true
		case errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES):
			return fmt.Errorf("kernel engine: bpf(2) not permitted (%v): needs root or CAP_BPF and CAP_PERFMON: %w", err, engine.ErrNotSupported)
		case errors.Is(err, unix.ENOSYS):
			return fmt.Errorf("kernel engine: this kernel has no bpf(2): %w", engine.ErrNotSupported)
		default:
			return fmt.Errorf("kernel engine: probing bpf(2): %w", err)
		}
	}
	if !needArena || arenaOK {
		return nil
	}
	fd, err := sys.MapCreate(&sys.MapCreateAttr{
		MapType:    uint32(object.Arena),
		MaxEntries: 1,
		MapFlags:   object.FlagMmapable,
	})
	switch {
	case err == nil:
		fd.Close()
		arenaOK = true
		return nil
	case errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES):
		// Other maps were created, so bpf(2) itself is allowed.
		if hasArenaCaps() {
			return fmt.Errorf("kernel engine: this kernel refuses arena maps (%v) although the process may use bpf(2) "+
				"and has CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: not a privilege problem; a security module or the "+
				"kernel's build forbids arenas here: %w", err, engine.ErrNotSupported)
		}
		return fmt.Errorf("kernel engine: arena maps not permitted (%v): they need CAP_BPF and CAP_PERFMON (or root): %w",
			err, engine.ErrNotSupported)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("kernel engine: this kernel has no BPF arena maps (Linux 6.9+ needed): %w", engine.ErrNotSupported)
	default:
		return fmt.Errorf("kernel engine: probing for BPF arena support: %w", err)
	}
}

// hasArenaCaps reports whether the process holds every capability the
// kernel asks of an arena's creator.
func hasArenaCaps() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	return has(unix.CAP_BPF) && has(unix.CAP_PERFMON) && has(unix.CAP_SYS_ADMIN)
}
