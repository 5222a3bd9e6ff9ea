package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/bpfarena/bpfarena"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/internal/matrix"
)

// kernelFlag defines --kernel, the same on run, test and bench.
func kernelFlag(fs *flag.FlagSet) *string {
	return fs.String("kernel", "", "kernel `VERSION` the vm models ("+strings.Join(bpfarena.KernelVersions(), ", ")+
		", or host; default the newest); with --engine kernel, another version boots in a VM")
}

// inKernelVM reruns a command inside a virtual machine booting Debian's
// build of kernel (the kernel matrix), when the kernel engine is asked for
// a kernel that is not the running one: a user checks an object against a
// real 6.12 from any Linux machine, without root on the host's kernel.
// It reports false when the command should run here.
func inKernelVM(cmd string, args []string, kernel string, usesKernel bool, objs []string, stdout io.Writer) (bool, error) {
	if !usesKernel || kernel == "" || kernel == "host" {
		return false, nil
	}
	want, err := kversion.ParseVersion(kernel)
	if err != nil {
		return true, fmt.Errorf("%w: --kernel: %v", errUsage, err)
	}
	if have, err := kversion.HostVersion(); err == nil && have == want {
		return false, nil
	}
	k, err := matrix.Fetch(want.String())
	if err != nil {
		return true, fmt.Errorf("kernel %s is not the running kernel, and the kernel matrix cannot boot it: %w", want, err)
	}
	self, err := os.Executable()
	if err != nil {
		return true, err
	}
	seen := map[string]string{}
	guest := map[string]string{}
	for _, o := range objs {
		base := filepath.Base(o)
		if prev, ok := seen[base]; ok && prev != o {
			return true, fmt.Errorf("%s and %s have the same name; the kernel's VM needs distinct file names", prev, o)
		}
		seen[base] = o
		guest[o] = matrix.GuestPath(o)
	}
	// The same command in the guest, where the kernel engine runs the
	// kernel it boots and the vm models that same kernel.
	gargs := []string{cmd}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--kernel" || a == "-kernel":
			gargs = append(gargs, a, "host")
			i++
			continue
		case strings.HasPrefix(a, "--kernel=") || strings.HasPrefix(a, "-kernel="):
			gargs = append(gargs, "--kernel=host")
			continue
		}
		if g, ok := guest[a]; ok {
			a = g
		}
		gargs = append(gargs, a)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Fprintf(os.Stderr, "bpfarena: running in a VM with Debian's kernel %s (qemu)\n", k.Release)
	code, err := matrix.Run(ctx, k, matrix.Spec{Binary: self, Args: gargs, Files: objs, Stdout: stdout})
	if err != nil {
		return true, err
	}
	if code != 0 {
		return true, errFailed
	}
	return true, nil
}
