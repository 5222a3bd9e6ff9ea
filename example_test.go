package bpfarena_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/bpf"
)

// ListNode mirrors struct list_node of bpf/examples/list.bpf.c.
type ListNode struct {
	Next  arena.Ptr[ListNode]
	Value uint64
}

func loadEmbedded(name string) *bpfarena.Spec {
	b, err := bpf.Read(name)
	if err != nil {
		log.Fatal(err)
	}
	spec, err := bpfarena.LoadSpecFromReader(bytes.NewReader(b), name)
	if err != nil {
		log.Fatal(err)
	}
	return spec
}

// A BPF program builds a linked list in the arena; Go walks it by
// following the pointers the program stored.
func Example_walkList() {
	spec := loadEmbedded("examples/list.bpf.o")
	coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: bpfarena.VM})
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()

	n, _ := bpfarena.Global[uint32](coll, "n")
	n.Set(5)
	if _, err := coll.Program("build").Run(nil); err != nil {
		log.Fatal(err)
	}
	head, err := bpfarena.Global[arena.Ptr[ListNode]](coll, "head")
	if err != nil {
		log.Fatal(err)
	}
	a := coll.Arena()
	for p := head.Get(); !p.IsNil(); p = p.Deref(a).Next {
		fmt.Print(p.Deref(a).Value, " ")
	}
	fmt.Println()
	// Output: 5 4 3 2 1
}

// KVEntry and the table header mirror bpf/examples/kv.bpf.c.
type KVEntry struct{ Key, Value uint64 }

// Go builds a table in the arena; a BPF program looks a key up in it.
func Example_goBuildsBPFReads() {
	spec := loadEmbedded("examples/kv.bpf.o")
	coll, err := bpfarena.Load(spec, bpfarena.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()

	a := coll.Arena()
	addr, err := a.Alloc(1)
	if err != nil {
		log.Fatal(err)
	}
	count := arena.Ptr[uint64](addr)
	*count.Deref(a) = 3
	entries := arena.Ptr[KVEntry](addr + 8)
	for i := 0; i < 3; i++ {
		*entries.Add(i).Deref(a) = KVEntry{Key: uint64(10 * (i + 1)), Value: uint64(100 * (i + 1) * (i + 1))}
	}
	table, _ := bpfarena.Global[uint64](coll, "table")
	table.Set(addr)
	key, _ := bpfarena.Global[uint64](coll, "key")
	key.Set(20)

	ret, err := coll.Program("lookup").Run(nil)
	if err != nil {
		log.Fatal(err)
	}
	value, _ := bpfarena.Global[uint64](coll, "value")
	fmt.Println(ret, value.Get())
	// Output: 1 400
}
