package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
)

// TestMain lets the test binary be the second process.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SHARED_WORKER"); dir != "" {
		engine := bpfarena.VM
		if os.Getenv("SHARED_KERNEL") != "" {
			engine = bpfarena.Kernel
		}
		n, _ := strconv.Atoi(os.Getenv("SHARED_N"))
		if err := work(os.Stdout, engine, dir, n); err != nil {
			os.Stdout.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestShared(t *testing.T) {
	for _, engine := range []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel} {
		t.Run(engine.String(), func(t *testing.T) {
			const n = 2000
			var out bytes.Buffer
			err := run(&out, engine, n, func(dir string) *exec.Cmd {
				cmd := exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), "SHARED_WORKER="+dir, "SHARED_N="+strconv.Itoa(n))
				if engine == bpfarena.Kernel {
					cmd.Env = append(cmd.Env, "SHARED_KERNEL=1")
				}
				return cmd
			})
			if engine == bpfarena.Kernel && errors.Is(err, bpfarena.ErrNotSupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 4 || lines[0][len("first: "):] != lines[1][len("second: "):] ||
				lines[3] != "first: 6000 hits, want 6000" {
				t.Fatalf("got\n%s", out.String())
			}
		})
	}
}
