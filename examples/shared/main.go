// Command shared: two processes share one arena through a pin directory.
// The first loads the object pinned and sets up a scoreboard in the arena;
// it then starts a second process (itself, with -worker), which loads the
// same pinned object, finds the board at the same address, and bumps it
// both from BPF and from Go while the first keeps bumping it from BPF.
// Every bump is an atomic add, so the count comes out exact.
//
//	go run ./examples/shared            # on the vm engine
//	go run ./examples/shared -kernel    # on the running kernel (root, Linux 6.9+, bpffs)
package main

//go:generate go run github.com/bpfarena/bpfarena/cmd/bpfarena gen --package main --ident Shared bpf/shared.bpf.c

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/bpfarena/bpfarena"
)

func main() {
	kernel := flag.Bool("kernel", false, "run on the kernel engine instead of the vm")
	n := flag.Int("n", 10000, "bumps per side")
	worker := flag.String("worker", "", "run as the second process on the pin `DIR`")
	flag.Parse()
	engine := bpfarena.VM
	if *kernel {
		engine = bpfarena.Kernel
	}
	var err error
	if *worker != "" {
		err = work(os.Stdout, engine, *worker, *n)
	} else {
		err = run(os.Stdout, engine, *n, func(dir string) *exec.Cmd {
			args := []string{"-worker", dir, "-n", strconv.Itoa(*n)}
			if *kernel {
				args = append(args, "-kernel")
			}
			return exec.Command(os.Args[0], args...)
		})
	}
	if err != nil {
		log.Fatal(err)
	}
}

func bumpCtx() []byte { return binary.LittleEndian.AppendUint64(nil, uint64(os.Getpid())) }

// run is the first process: it pins, sets up, starts the worker that
// worker returns, bumps n times while it runs, and checks the count.
func run(w io.Writer, engine bpfarena.Engine, n int, worker func(dir string) *exec.Cmd) error {
	// The vm keeps the shared memory in an ordinary directory; the
	// kernel pins maps on the bpf filesystem.
	pin := fmt.Sprintf("/sys/fs/bpf/bpfarena-shared-%d", os.Getpid())
	if engine == bpfarena.VM {
		dir, err := os.MkdirTemp("", "bpfarena-shared-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		pin = dir + "/pin"
	}
	objs, err := LoadShared(bpfarena.Options{Engine: engine, PinPath: pin})
	if err != nil {
		return err
	}
	defer objs.Close()
	defer bpfarena.Unpin(pin)
	if ret, err := objs.Setup.Run(nil); err != nil || ret != 0 {
		return fmt.Errorf("setup: %d, %v", ret, err)
	}
	fmt.Fprintf(w, "first: board at %#x\n", objs.Board.Get().Addr())

	cmd := worker(pin)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	res, err := objs.Bump.Test(bpfarena.RunOptions{Context: bumpCtx(), Repeat: uint32(n)})
	if err != nil || res.Retval != 0 {
		return fmt.Errorf("bump: %v, %v", res, err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("second process: %v\n%s", err, out.String())
	}
	io.WriteString(w, out.String())
	hits, err := objs.Teardown.Run(nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "first: %d hits, want %d\n", hits, 3*n)
	if int(hits) != 3*n {
		return errors.New("hits lost")
	}
	return nil
}

// work is the second process: the same object on the same pin.
func work(w io.Writer, engine bpfarena.Engine, pin string, n int) error {
	objs, err := LoadShared(bpfarena.Options{Engine: engine, PinPath: pin})
	if err != nil {
		return err
	}
	defer objs.Close()
	p := objs.Board.Get()
	b := p.Deref(objs.Collection.Arena())
	if b == nil {
		return errors.New("second: no board")
	}
	fmt.Fprintf(w, "second: board at %#x\n", p.Addr())
	done := make(chan error)
	go func() {
		res, err := objs.Bump.Test(bpfarena.RunOptions{Context: bumpCtx(), Repeat: uint32(n)})
		if err == nil && res.Retval != 0 {
			err = fmt.Errorf("bump returned %d", res.Retval)
		}
		done <- err
	}()
	for i := 0; i < n; i++ {
		atomic.AddUint64(&b.Hits, 1) // the same word BPF adds to
	}
	if err := <-done; err != nil {
		return err
	}
	fmt.Fprintf(w, "second: bumped %d times from BPF and %d from Go\n", n, n)
	return nil
}
