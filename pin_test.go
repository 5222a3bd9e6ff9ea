//go:build linux

package bpfarena_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/arena"
)

// The child side of the two-process tests: this test binary run again with
// BPFARENA_PIN_CHILD set to "object program repeat" and BPFARENA_PIN_DIR.
// It loads the object pinned, runs the program, and prints the retval.
// With repeat 0 it runs the program until killed.
func TestPinChild(t *testing.T) {
	job := os.Getenv("BPFARENA_PIN_CHILD")
	if job == "" {
		t.Skip("only run as the child of a pin test")
	}
	f := strings.Fields(job)
	repeat, _ := strconv.Atoi(f[2])
	eng, _ := bpfarena.ParseEngine(os.Getenv("BPFARENA_PIN_ENGINE"))
	coll, err := bpfarena.Load(specOf(t, f[0]), bpfarena.Options{Engine: eng, PinPath: os.Getenv("BPFARENA_PIN_DIR")})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	opts := bpfarena.RunOptions{Data: make([]byte, 64), Repeat: uint32(repeat)}
	if repeat == 0 {
		fmt.Println("ready")
		for opts.Repeat = 1; ; {
			if _, err := coll.Program(f[1]).Test(opts); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := coll.Program(f[1]).Test(opts)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("retval %d\n", res.Retval)
}

// child starts this test binary as the child of a pin test.
func child(t *testing.T, eng bpfarena.Engine, dir, object, prog string, repeat int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestPinChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BPFARENA_PIN_DIR="+dir, "BPFARENA_PIN_ENGINE="+eng.String(),
		fmt.Sprintf("BPFARENA_PIN_CHILD=%s %s %d", object, prog, repeat))
	return cmd
}

func childRetval(t *testing.T, out []byte, err error) uint32 {
	t.Helper()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "retval "); ok {
			n, _ := strconv.ParseUint(v, 10, 32)
			return uint32(n)
		}
	}
	t.Fatalf("child printed no retval:\n%s", out)
	return 0
}

func loadPinned(t *testing.T, eng bpfarena.Engine, name, dir string) *bpfarena.Collection {
	t.Helper()
	coll, err := bpfarena.Load(specOf(t, name), bpfarena.Options{Engine: eng, PinPath: dir})
	if errors.Is(err, bpfarena.ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll
}

var pinSeq int

// pinDir is a fresh pin directory for the engine: a temporary directory
// for the vm, one on the bpf filesystem for the kernel. It is unpinned
// when the test ends.
func pinDir(t *testing.T, eng bpfarena.Engine) string {
	dir := t.TempDir() + "/pin"
	if eng == bpfarena.Kernel {
		pinSeq++
		dir = fmt.Sprintf("/sys/fs/bpf/bpfarena-test-%d-%d", os.Getpid(), pinSeq)
	}
	t.Cleanup(func() { bpfarena.Unpin(dir) })
	return dir
}

// One process builds a list in the pinned arena, a second walks and frees
// it, and the first sees the result: globals, arena pages and addresses
// are shared. A later load of a different object is refused.
func TestPinTwoProcesses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		dir := pinDir(t, eng)
		coll := loadPinned(t, eng, "examples/list.bpf.o", dir)
		if got := run(t, coll, "build"); got != 100 {
			t.Fatalf("build: %d", got)
		}
		out, err := child(t, eng, dir, "examples/list.bpf.o", "sum", 1).CombinedOutput()
		if got := childRetval(t, out, err); got != 5050 {
			t.Fatalf("sum in the second process: %d, want 5050", got)
		}
		out, err = child(t, eng, dir, "examples/list.bpf.o", "teardown", 1).CombinedOutput()
		if got := childRetval(t, out, err); got != 100 {
			t.Fatalf("teardown in the second process: %d, want 100", got)
		}
		head, _ := bpfarena.Global[uint64](coll, "head")
		total, _ := bpfarena.Global[uint64](coll, "total")
		if head.Get() != 0 || total.Get() != 5050 || coll.Arena().PresentPages() != 0 {
			t.Errorf("after the second process: head %#x total %d present %d, want 0, 5050, 0",
				head.Get(), total.Get(), coll.Arena().PresentPages())
		}

		_, err = bpfarena.Load(specOf(t, "examples/bench.bpf.o"), bpfarena.Options{Engine: eng, PinPath: dir})
		if !errors.Is(err, bpfarena.ErrPinMismatch) {
			t.Errorf("other object on the pin: %v, want ErrPinMismatch", err)
		}
		if err := bpfarena.Unpin(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pin directory left after Unpin: %v", err)
		}
	})
}

// Two processes run programs on one arena at the same time: atomic adds
// on arena globals are atomic across them, and page allocation and free
// in both keep the arena consistent.
func TestPinConcurrentProcesses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		const n = 5000
		dir := pinDir(t, eng)
		coll := loadPinned(t, eng, "examples/counter.bpf.o", dir)
		c := child(t, eng, dir, "examples/counter.bpf.o", "count_xdp", n)
		var out strings.Builder
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		res, err := coll.Program("count_xdp").Test(bpfarena.RunOptions{Data: make([]byte, 64), Repeat: n})
		if err != nil || res.Retval != 2 {
			t.Fatalf("count_xdp: %v %v", res, err)
		}
		err = c.Wait()
		childRetval(t, []byte(out.String()), err)
		packets, _ := bpfarena.Global[uint64](coll, "xdp_packets")
		bytes, _ := bpfarena.Global[uint64](coll, "xdp_bytes")
		if packets.Get() != 2*n || bytes.Get() != 2*n*64 {
			t.Errorf("xdp_packets %d xdp_bytes %d, want %d and %d", packets.Get(), bytes.Get(), 2*n, 2*n*64)
		}

		dir2 := pinDir(t, eng)
		bench := loadPinned(t, eng, "examples/bench.bpf.o", dir2)
		before := bench.Arena().PresentPages()
		c = child(t, eng, dir2, "examples/bench.bpf.o", "alloc_free", 5)
		out.Reset()
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		res, err = bench.Program("alloc_free").Test(bpfarena.RunOptions{Repeat: 5})
		if err != nil || res.Retval != 1000 {
			t.Fatalf("alloc_free: %v %v", res, err)
		}
		err = c.Wait()
		if got := childRetval(t, []byte(out.String()), err); got != 1000 {
			t.Errorf("alloc_free in the second process: %d, want 1000", got)
		}
		if after := bench.Arena().PresentPages(); after != before {
			t.Errorf("present pages %d after both, %d before", after, before)
		}
		checkAllocatable(t, bench.Arena())
	})
}

// checkAllocatable allocates every free page one by one: each comes out
// once, and when no more do, every page is present: no page is lost
// between free and allocated.
func checkAllocatable(t *testing.T, a *arena.Arena) {
	t.Helper()
	seen := map[uint64]bool{}
	for {
		p, err := a.Alloc(1)
		if errors.Is(err, arena.ErrNoMemory) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("page %#x handed out twice", p)
		}
		seen[p] = true
	}
	if n := a.PresentPages(); n != int(a.Pages()) {
		t.Errorf("%d of %d pages present once no more can be allocated (%d were)", n, a.Pages(), len(seen))
	}
	for p := range seen {
		a.Free(p, 1)
	}
}

// A process killed while it allocates and frees pages leaves an arena the
// next user finds consistent: every page not present can be allocated.
func TestPinKilledProcess(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng bpfarena.Engine) {
		dir := pinDir(t, eng)
		coll := loadPinned(t, eng, "examples/bench.bpf.o", dir)
		before := coll.Arena().PresentPages()
		for round := 0; round < 3; round++ {
			c := child(t, eng, dir, "examples/bench.bpf.o", "alloc_free", 0)
			stdout, err := c.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 6)
			if _, err := stdout.Read(buf); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(20+round*15) * time.Millisecond)
			c.Process.Signal(syscall.SIGKILL)
			c.Wait()
			checkAllocatable(t, coll.Arena())
			// The killed process may have held one page of its last pair.
			if n := coll.Arena().PresentPages(); n != before && n != before+1 {
				t.Fatalf("round %d: %d pages present, want %d or %d", round, n, before, before+1)
			}
			before = coll.Arena().PresentPages()
			res, err := coll.Program("alloc_free").Test(bpfarena.RunOptions{})
			if err != nil || res.Retval != 1000 {
				t.Fatalf("round %d: alloc_free after the kill: %v %v", round, res, err)
			}
		}
	})
}

// Page allocation from Go on a private and on a pinned arena (the shared
// lock and the tree's write-back), and a program run doing 1000 kfunc
// pairs on each.
func BenchmarkPinnedArena(b *testing.B) {
	for _, pinned := range []bool{false, true} {
		name := "private"
		opts := bpfarena.Options{}
		if pinned {
			name = "pinned"
			opts.PinPath = b.TempDir() + "/pin"
		}
		b.Run(name, func(b *testing.B) {
			coll, err := bpfarena.Load(specOf(b, "examples/bench.bpf.o"), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer coll.Close()
			a := coll.Arena()
			b.Run("go_alloc_free", func(b *testing.B) {
				for b.Loop() {
					p, err := a.Alloc(1)
					if err != nil {
						b.Fatal(err)
					}
					a.Free(p, 1)
				}
			})
			b.Run("bpf_alloc_free_x1000", func(b *testing.B) {
				p := coll.Program("alloc_free")
				for b.Loop() {
					if _, err := p.Run(nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// Reading a global: the atomic word copy under the collection's lock.
func BenchmarkGlobalGet(b *testing.B) {
	coll, err := bpfarena.Load(specOf(b, "examples/list.bpf.o"), bpfarena.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer coll.Close()
	g, _ := bpfarena.Global[uint64](coll, "total")
	for b.Loop() {
		g.Get()
	}
}
