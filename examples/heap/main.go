// Command heap: the arena as a BPF program's private heap. The arena is
// created with BPF_F_NO_USER_CONV, so the pointers the program keeps in it
// are its own and mean nothing to Go; the program sorts 500 values by
// insertion into a list it carves from two arena pages, frees the pages,
// and reports through globals, which Go reads through the skeleton.
//
//	go run ./examples/heap            # on the vm engine
//	go run ./examples/heap -kernel    # on the running kernel (root, Linux 6.9+)
package main

//go:generate go run github.com/bpfarena/bpfarena/cmd/bpfarena gen --package main --ident Heap bpf/heap.bpf.c

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/bpfarena/bpfarena"
)

func main() {
	kernel := flag.Bool("kernel", false, "run on the kernel engine instead of the vm")
	flag.Parse()
	engine := bpfarena.VM
	if *kernel {
		engine = bpfarena.Kernel
	}
	if err := run(os.Stdout, engine); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer, engine bpfarena.Engine) error {
	objs, err := LoadHeap(bpfarena.Options{Engine: engine})
	if err != nil {
		return err
	}
	defer objs.Close()

	ret, err := objs.Sortlist.Run(nil)
	if err != nil {
		return err
	}
	if ret != objs.Walked.Get() || objs.BadAt.Get() != 0 {
		return fmt.Errorf("sortlist returned %d: out of order at node %d", ret, objs.BadAt.Get())
	}
	fmt.Fprintf(w, "sorted %d values: first %d, last %d, sum %d\n",
		objs.Walked.Get(), objs.First.Get(), objs.Last.Get(), objs.Sum.Get())
	// The program freed its pages again: nothing of the heap is left.
	fmt.Fprintf(w, "arena pages present after the run: %d\n", objs.Collection.Arena().PresentPages())
	return nil
}
