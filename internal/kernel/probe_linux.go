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

// probeOK records a successful probe; failures are not cached because
// they can depend on the caller's privileges, which may change.
var (
	probeMu sync.Mutex
	probeOK bool
)

// probe checks that this process can use BPF arenas here by creating (and
// closing) a one-page arena map, and turns the ways that fails into
// engine.ErrNotSupported with the reason.
func probe() error {
	probeMu.Lock()
	defer probeMu.Unlock()
	if probeOK {
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
		probeOK = true
		return nil
	case errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES):
		return fmt.Errorf("kernel engine: bpf(2) not permitted (%v): needs root or CAP_BPF and CAP_PERFMON: %w", err, engine.ErrNotSupported)
	case errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("kernel engine: this kernel has no bpf(2): %w", engine.ErrNotSupported)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("kernel engine: this kernel has no BPF arena maps (Linux 6.9+ needed): %w", engine.ErrNotSupported)
	default:
		return fmt.Errorf("kernel engine: probing for BPF arena support: %w", err)
	}
}
