// Command htab: a BPF program builds a chained hash table in the arena;
// Go iterates its buckets through the generated types and checks every
// entry, then the program looks keys up and Go compares the results.
//
//	go run ./examples/htab            # on the vm engine
//	go run ./examples/htab -kernel    # on the running kernel (root, Linux 6.9+)
package main

//go:generate go run github.com/bpfarena/bpfarena/cmd/bpfarena gen --package main --ident Htab bpf/htab.bpf.c

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
	objs, err := LoadHtab(bpfarena.Options{Engine: engine})
	if err != nil {
		return err
	}
	defer objs.Close()

	n, err := objs.Build.Run(nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "build: %d entries\n", n)

	// Iterate the table from Go: buckets hold arena pointers to chains.
	a := objs.Collection.Arena()
	t := objs.Table.Get().Deref(a)
	if t == nil {
		return fmt.Errorf("table is not set after build")
	}
	var count, sum uint64
	longest := 0
	for _, head := range t.Buckets[:t.NBuckets] {
		chain := 0
		for e := head; !e.IsNil(); e = e.Deref(a).Next {
			entry := e.Deref(a)
			if entry.Value != entry.Key*entry.Key {
				return fmt.Errorf("entry %d holds %d", entry.Key, entry.Value)
			}
			count++
			sum += entry.Value
			chain++
		}
		longest = max(longest, chain)
	}
	fmt.Fprintf(w, "go: %d entries in %d buckets (longest chain %d), values sum to %d\n",
		count, t.NBuckets, longest, sum)
	if count != uint64(t.Count) {
		return fmt.Errorf("go counted %d entries, the table says %d", count, t.Count)
	}

	found, err := objs.Lookup.Run(nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "lookup: %d found, %d missed, values sum to %d\n", found, objs.Missed.Get(), objs.ValueSum.Get())
	if objs.ValueSum.Get() != sum {
		return fmt.Errorf("BPF summed %d, Go %d", objs.ValueSum.Get(), sum)
	}

	freed, err := objs.Destroy.Run(nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "destroy: freed %d entries\n", freed)
	return nil
}
