//go:build !linux

package vm

import (
	"fmt"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

// Pinning needs Linux's file mappings and hole punching.

type pinDir struct{ created bool }

type sharedArena struct{}

func openPin(path string, _ *object.Spec) (*pinDir, error) {
	return nil, fmt.Errorf("pin directory %s: %w", path, engine.ErrNotSupported)
}

func (*pinDir) finish() error { return nil }
func (*pinDir) release()      {}
func (*pinDir) mapPinnedArena(*object.MapSpec, uint64) ([]byte, int, error) {
	return nil, -1, engine.ErrNotSupported
}
func (*pinDir) attachShared(*vmArena, int) error  { return engine.ErrNotSupported }
func (*pinDir) backMap(*vmMap) (func(), error)    { return nil, engine.ErrNotSupported }
func (*sharedArena) acquire(*vmArena)             {}
func (*sharedArena) begin(uint32, uint64, uint64) {}
func (*sharedArena) commit(*vmArena)              {}
func (*sharedArena) punch([]byte, uint32, uint32) {}
func (*sharedArena) close()                       {}
func pinnable(*object.MapSpec) bool               { return false }

// Unpin needs Linux.
func Unpin(path string) error {
	return fmt.Errorf("unpin %s: %w", path, engine.ErrNotSupported)
}
func (*sharedArena) store(*vmArena) {}
