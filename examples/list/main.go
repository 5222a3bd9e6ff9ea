// Command list: a BPF program builds a linked list in the arena and Go
// walks it through the generated types, following the pointers the
// program stored.
//
//	go run ./examples/list            # on the vm engine
//	go run ./examples/list -kernel    # on the running kernel (root, Linux 6.9+)
package main

//go:generate go run github.com/bpfarena/bpfarena/cmd/bpfarena gen --package main --ident List bpf/list.bpf.c

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
	n := flag.Uint("n", 10, "nodes to build")
	flag.Parse()
	engine := bpfarena.VM
	if *kernel {
		engine = bpfarena.Kernel
	}
	if err := run(os.Stdout, engine, uint32(*n)); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer, engine bpfarena.Engine, n uint32) error {
	objs, err := LoadList(bpfarena.Options{Engine: engine})
	if err != nil {
		return err
	}
	defer objs.Close()

	if err := objs.N.Set(n); err != nil {
		return err
	}
	length, err := objs.Build.Run(nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "build: %d nodes\n", length)

	// Walk the list in Go: each node is a ListListNode in arena memory.
	a := objs.Collection.Arena()
	var sum uint64
	fmt.Fprint(w, "list:")
	for p := objs.Head.Get(); !p.IsNil(); p = p.Deref(a).Next {
		node := p.Deref(a)
		fmt.Fprintf(w, " %d", node.Value)
		sum += node.Value
	}
	fmt.Fprintln(w)

	// The program's own walk must agree with Go's.
	if _, err := objs.Sum.Run(nil); err != nil {
		return err
	}
	if total := objs.Total.Get(); total != sum {
		return fmt.Errorf("BPF summed %d, Go %d", total, sum)
	}
	fmt.Fprintf(w, "sum: %d (BPF and Go agree)\n", sum)

	freed, err := objs.Teardown.Run(nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "teardown: freed %d nodes, head = %#x\n", freed, objs.Head.Get().Addr())
	return nil
}
