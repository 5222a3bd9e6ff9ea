//go:build !linux

package kernel

import (
	"errors"
	"testing"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

func TestNotLinux(t *testing.T) {
	_, err := Load(&object.Spec{}, engine.Options{})
	if !errors.Is(err, engine.ErrNotSupported) {
		t.Fatalf("Load: %v, want ErrNotSupported", err)
	}
}
