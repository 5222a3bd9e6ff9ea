// Command kvstore: Go builds a hash table in the arena and BPF programs
// read it. Go keeps updating the values while the lookups run: both sides
// see the same memory, with no copy and no map update call.
//
//	go run ./examples/kvstore            # on the vm engine
//	go run ./examples/kvstore -kernel    # on the running kernel (root, Linux 6.9+)
package main

//go:generate go run github.com/bpfarena/bpfarena/cmd/bpfarena gen --package main --ident Kv bpf/kvstore.bpf.c

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"sync/atomic"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/arena"
)

const slots = 1024 // KV_SLOTS of bpf/kvstore.bpf.c

// hash is kv_hash of bpf/kvstore.bpf.c.
func hash(k uint64) uint32 { return uint32((k * 0x9E3779B97F4A7C15) >> 54) }

// put inserts or updates k (not 0) by linear probing.
func put(t *KvKvTable, k, v uint64) error {
	for i := uint32(0); i < slots; i++ {
		s := &t.Slot[(hash(k)+i)%slots]
		if s.Key == k {
			atomic.StoreUint64(&s.Value, v)
			return nil
		}
		if s.Key == 0 {
			// The value first, then the key: a lookup that finds the key
			// finds its value.
			atomic.StoreUint64(&s.Value, v)
			atomic.StoreUint64(&s.Key, k)
			t.Used++
			return nil
		}
	}
	return fmt.Errorf("table full")
}

func main() {
	kernel := flag.Bool("kernel", false, "run on the kernel engine instead of the vm")
	keys := flag.Int("keys", 500, "keys to store")
	flag.Parse()
	engine := bpfarena.VM
	if *kernel {
		engine = bpfarena.Kernel
	}
	if err := run(os.Stdout, engine, *keys); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer, engine bpfarena.Engine, keys int) error {
	objs, err := LoadKv(bpfarena.Options{Engine: engine})
	if err != nil {
		return err
	}
	defer objs.Close()
	a := objs.Collection.Arena()

	// Go allocates the table in the arena and fills it: key k holds k*10.
	p, err := arena.New[KvKvTable](a)
	if err != nil {
		return err
	}
	t := p.Deref(a)
	t.Slots = slots
	for k := 1; k <= keys; k++ {
		if err := put(t, uint64(k), uint64(k)*10); err != nil {
			return err
		}
	}
	if err := objs.Table.Set(p); err != nil {
		return err
	}
	fmt.Fprintf(w, "go: %d keys in a %d-slot table at %#x\n", t.Used, t.Slots, p.Addr())

	lookup := func(k uint64) (bool, uint64, error) {
		if err := objs.Key.Set(k); err != nil {
			return false, 0, err
		}
		ret, err := objs.Lookup.Run(nil)
		return ret == 1, objs.Value.Get(), err
	}
	for _, k := range []uint64{1, uint64(keys), uint64(keys) + 1} {
		found, v, err := lookup(k)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "lookup %d: found %v, value %d\n", k, found, v)
	}

	// Go rewrites every value, value = k*10 + round, while BPF looks keys
	// up; every value BPF reads belongs to its key.
	const rounds = 200
	var wg sync.WaitGroup
	var stop atomic.Bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		for round := uint64(1); round <= rounds && !stop.Load(); round++ {
			for k := 1; k <= keys; k++ {
				put(t, uint64(k), uint64(k)*10+round)
			}
		}
	}()
	bad := 0
	runs := 0
	for k := uint64(1); k <= uint64(keys); k++ {
		found, v, err := lookup(k)
		if err != nil {
			stop.Store(true)
			wg.Wait()
			return err
		}
		runs++
		if !found || v < k*10 || v > k*10+rounds {
			bad++
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad > 0 {
		return fmt.Errorf("%d of %d lookups during updates read a value of another key", bad, runs)
	}
	fmt.Fprintf(w, "during updates: %d lookups, each found its key's value; %d lookups in all\n", runs, objs.Lookups.Get())
	return nil
}
