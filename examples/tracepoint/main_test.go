package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
)

func TestTracepoint(t *testing.T) {
	for _, engine := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		t.Run(engine.String(), func(t *testing.T) {
			var out bytes.Buffer
			err := run(&out, engine, 25)
			if engine == bpfarena.VM {
				// The vm verifies the program; only a kernel fires tracepoints.
				if !errors.Is(err, errSkipped) || !strings.Contains(err.Error(), "verified on the vm") {
					t.Fatalf("vm: %v", err)
				}
				return
			}
			if errors.Is(err, errSkipped) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out.String(), "counted 25 getpid calls") {
				t.Fatalf("output:\n%s", out.String())
			}
		})
	}
}
