package bpfarena_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/arena"
)

// Close in the middle of program runs, Go page allocations, global reads
// and map calls: every call either completes or returns ErrClosed (no
// crash, no race under -race), counters only grow, and after Close every
// call reports ErrClosed.
func TestCloseUnderLoad(t *testing.T) {
	spec := specOf(t, "corpus/concurrency.bpf.o")
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		rounds := 20
		if testing.Short() {
			rounds = 5
		}
		for round := 0; round < rounds; round++ {
			coll := load(t, spec, eng)
			closeUnderLoad(t, coll, int64(50+round*37))
			if t.Failed() {
				return
			}
		}
	})
}

// closeUnderLoad starts the workers, closes coll once they have done
// about ops calls between them, and checks what every worker saw.
func closeUnderLoad(t *testing.T, coll *bpfarena.Collection, ops int64) {
	hits, err := bpfarena.Global[uint64](coll, "hits")
	if err != nil {
		t.Fatal(err)
	}
	arenaHits, err := bpfarena.Global[uint64](coll, "arena_hits")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := coll.Map("hash")
	if err != nil {
		t.Fatal(err)
	}
	a := coll.Arena()
	prog := coll.Program("bump")

	var (
		done   atomic.Int64 // calls completed
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		failed atomic.Bool
		closed = make(chan struct{})
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
		failed.Store(true)
	}
	// worker calls f until it reports ErrClosed; any other error fails.
	worker := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := f()
				if errors.Is(err, bpfarena.ErrClosed) {
					select {
					case <-closed:
					default:
						fail(fmt.Errorf("%s: ErrClosed before Close: %v", name, err))
					}
					return
				}
				if err != nil {
					fail(fmt.Errorf("%s: %w", name, err))
					return
				}
				done.Add(1)
			}
		}()
	}
	for i := 0; i < 2; i++ {
		worker("run", func() error {
			ret, err := prog.Run(nil)
			if err == nil && ret != 0 {
				err = fmt.Errorf("bump returned %d", ret)
			}
			return err
		})
		worker("alloc/free", func() error {
			p, err := a.Alloc(1)
			if err != nil {
				return err
			}
			if !a.Present(p) {
				select {
				case <-closed: // Present is false once closed
				default:
					return fmt.Errorf("page %#x just allocated is not present", p)
				}
			}
			return a.Free(p, 1)
		})
	}
	monotonic := func(name string, load func() (uint64, error)) func() error {
		var last uint64
		return func() error {
			v, err := load()
			if err != nil {
				return err
			}
			if v < last {
				return fmt.Errorf("%s went down from %d to %d", name, last, v)
			}
			last = v
			return nil
		}
	}
	worker("hits", monotonic("hits", hits.Load))
	worker("arena_hits", monotonic("arena_hits", arenaHits.Load))
	worker("read", func() error {
		b, err := hits.Variable().Read()
		if err == nil && len(b) != 8 {
			err = fmt.Errorf("read %d bytes", len(b))
		}
		return err
	})
	worker("map", func() error {
		k := binary.LittleEndian.AppendUint32(nil, 1)
		if err := hash.Update(k, make([]byte, 8), 0); err != nil {
			return err
		}
		_, err := hash.Lookup(k)
		return err
	})
	worker("pages", func() error {
		if a.PresentPages() < 0 {
			return errors.New("negative page count")
		}
		_, err := a.Bytes(a.Start(), 8)
		if errors.Is(err, arena.ErrClosed) {
			return bpfarena.ErrClosed
		}
		return err
	})

	for done.Load() < ops {
		if failed.Load() {
			break
		}
		runtime.Gosched()
	}
	close(closed)
	if err := coll.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}

	// After Close, everything says so.
	checks := map[string]error{}
	_, checks["run"] = prog.Run(nil)
	_, checks["alloc"] = a.Alloc(1)
	checks["free"] = a.Free(a.Start(), 1)
	checks["reserve"] = a.Reserve(a.Start(), 1)
	_, checks["bytes"] = a.Bytes(a.Start(), 1)
	_, checks["load"] = hits.Load()
	_, checks["read"] = hits.Variable().Read()
	checks["write"] = hits.Set(1)
	_, checks["lookup"] = hash.Lookup(make([]byte, 4))
	checks["update"] = hash.Update(make([]byte, 4), make([]byte, 8), 0)
	checks["delete"] = hash.Delete(make([]byte, 4))
	for name, err := range checks {
		if !errors.Is(err, bpfarena.ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", name, err)
		}
	}
	if a.Present(a.Start()) || a.PresentPages() != 0 {
		t.Error("pages present after close")
	}
	if v := hits.Get(); v != 0 {
		t.Errorf("Get after close: %d, want 0", v)
	}
}
