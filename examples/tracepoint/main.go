// Command tracepoint: an arena program attached to a real hook. It is
// loaded by bpfarena, handed to cilium/ebpf (Program.EBPF) and attached
// with cilium/ebpf/link to the syscalls/sys_enter_getpid tracepoint; it
// counts this process's getpid calls in arena memory, which Go reads
// through the skeleton while the program runs.
//
//	go run ./examples/tracepoint -kernel   # root, Linux 6.9+ with tracefs
//	go run ./examples/tracepoint           # the vm: loads and verifies only
//
// A tracepoint fires only in a kernel: on the vm, and where the kernel
// refuses arenas or tracepoints, the example says what it could not do and
// exits 0.
package main

//go:generate go run github.com/bpfarena/bpfarena/cmd/bpfarena gen --package main --ident Tp bpf/tracepoint.bpf.c

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/bpfarena/bpfarena"
)

// errSkipped: the environment cannot run the example; the error says why.
var errSkipped = errors.New("skipped")

func main() {
	kernel := flag.Bool("kernel", false, "run on the kernel engine instead of the vm")
	calls := flag.Int("calls", 100, "getpid calls to make")
	flag.Parse()
	engine := bpfarena.VM
	if *kernel {
		engine = bpfarena.Kernel
	}
	err := run(os.Stdout, engine, *calls)
	if errors.Is(err, errSkipped) {
		fmt.Println(err)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer, engine bpfarena.Engine, calls int) error {
	spec, err := LoadTpSpec()
	if err != nil {
		return err
	}
	pid := uint32(os.Getpid())
	if err := spec.SetVariable("target_pid", binary.LittleEndian.AppendUint32(nil, pid)); err != nil {
		return err
	}
	objs, err := LoadTpFromSpec(spec, bpfarena.Options{Engine: engine})
	if errors.Is(err, bpfarena.ErrNotSupported) {
		return fmt.Errorf("%w: %v", errSkipped, err)
	}
	if err != nil {
		return err
	}
	defer objs.Close()
	if engine == bpfarena.VM {
		return fmt.Errorf("%w: count_getpid loaded and verified on the vm; attaching it needs -kernel", errSkipped)
	}

	before := objs.Counts.Get().Calls
	detach, err := attach(objs)
	if err != nil {
		return err
	}
	defer detach()
	if err := getpids(calls); err != nil {
		return err
	}
	c := objs.Counts.Get()
	fmt.Fprintf(w, "counted %d getpid calls of pid %d\n", c.Calls-before, pid)
	for cpu, n := range c.Cpus {
		if n > 0 {
			fmt.Fprintf(w, "  cpu %d: %d\n", cpu, n)
		}
	}
	if got := c.Calls - before; got != uint64(calls) {
		return fmt.Errorf("counted %d calls, made %d", got, calls)
	}
	return nil
}
