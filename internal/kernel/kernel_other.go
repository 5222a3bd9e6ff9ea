//go:build !linux

package kernel

import (
	"fmt"
	"runtime"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

// Load reports that the kernel engine needs Linux.
func Load(spec *object.Spec, opts engine.Options) (engine.Collection, error) {
	return nil, fmt.Errorf("kernel engine on %s: needs Linux: %w", runtime.GOOS, engine.ErrNotSupported)
}

// IsPinDir is false: kernel pins need Linux.
func IsPinDir(string) bool { return false }

// Unpin needs Linux.
func Unpin(dir string) error { return fmt.Errorf("unpin %s: %w", dir, engine.ErrNotSupported) }

// Probe reports that there is no kernel engine off Linux.
func Probe() []Feature {
	return []Feature{{Name: "bpf(2)", Detail: "the kernel engine needs Linux"}}
}

// ProbeArena reports that there are no kernel arenas off Linux.
func ProbeArena() error {
	return fmt.Errorf("the kernel engine needs Linux: %w", engine.ErrNotSupported)
}
