package bpfarena_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/internal/conformance"
	"github.com/bpfarena/bpfarena/internal/testenv"
)

// The Linux kernel's own arena selftests (tools/testing/selftests/bpf),
// built from Debian's kernel sources by .ci/selftests.sh into a cache
// outside the repository: each kernel version's objects, run on the vm
// modelling that version, as the kernel's test runner runs them.

// selftestKernels are the kernel versions whose selftests are built.
var selftestKernels = []string{"7.3", "6.12"}

// selftestObject is the path of a built selftest object, or skips the test
// (fails it when BPFARENA_SELFTESTS is set, as CI sets it after building).
func selftestObject(t *testing.T, kernel, name string) string {
	t.Helper()
	dir, set := os.LookupEnv("BPFARENA_SELFTESTS")
	if !set {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skipf("kernel selftests not built (.ci/selftests.sh) and no home directory: %v", err)
		}
		dir = filepath.Join(home, ".cache", "bpfarena", "selftests")
	}
	objDir := filepath.Join(dir, kernel, "obj")
	if _, err := os.Stat(filepath.Join(objDir, ".built")); err != nil {
		if set {
			t.Fatalf("kernel selftests of %s not built in %s (BPFARENA_SELFTESTS is set): run .ci/selftests.sh", kernel, objDir)
		}
		t.Skipf("kernel selftests of %s not built: run .ci/selftests.sh (looked in %s)", kernel, objDir)
	}
	path := filepath.Join(objDir, name+".bpf.o")
	if _, err := os.Stat(path); err != nil {
		// arena_strsearch and arena_spin_lock came after 6.12; the tree
		// has no such test, as the kernel's runner has none to run.
		t.Skipf("Linux %s's selftests have no %s", kernel, name)
	}
	return path
}

// vmSelftestDifferences are the annotated tests where the vm does not yet
// give the kernel's verdict, with the reason. A listed test that passes
// fails TestKernelSelftests, so the list stays true.
var vmSelftestDifferences = map[string]string{
	"7.3/verifier_arena/mixed_arena_scalar_alu64_scalar_first": "7.3 refuses 64-bit ALU mixing arena pointers and scalars",
	"7.3/verifier_arena/mixed_arena_scalar_alu64_arena_first":  "7.3 refuses 64-bit ALU mixing arena pointers and scalars",
	"7.3/verifier_arena/arena_ptr_add_to_non_arena_ptr":        "7.3 accepts an arena pointer added to another pointer",
	"7.3/verifier_arena/iter_maps1":                            "iter programs get no typed ctx on the vm",
	"7.3/verifier_arena/iter_maps2":                            "iter programs get no typed ctx on the vm",
	"7.3/verifier_arena/iter_maps3":                            "iter programs get no typed ctx on the vm",
	"7.3/verifier_arena_large/big_alloc1":                      "arena globals at the end of the arena (libbpf of 7.3)",
	"6.12/verifier_arena/iter_maps1":                           "iter programs get no typed ctx on the vm",
	"6.12/verifier_arena/iter_maps2":                           "iter programs get no typed ctx on the vm",
	"6.12/verifier_arena/iter_maps3":                           "iter programs get no typed ctx on the vm",
}

// kernelSelftestDifferences are the annotated tests the kernel engine
// fails where libbpf passes them, with the reason.
var kernelSelftestDifferences = map[string]string{
	"7.3/verifier_arena_large/big_alloc1": "arena globals at the end of the arena (libbpf of 7.3)",
}

// TestKernelSelftests runs the annotated tests (verifier_arena and
// verifier_arena_large) on the vm modelling each kernel version.
func TestKernelSelftests(t *testing.T) {
	for _, k := range selftestKernels {
		for _, name := range []string{"verifier_arena", "verifier_arena_large"} {
			t.Run(k+"/"+name, func(t *testing.T) {
				spec, err := bpfarena.LoadSpec(selftestObject(t, k, name))
				if err != nil {
					t.Fatal(err)
				}
				results, err := conformance.RunSpecKernel(spec, []bpfarena.Engine{bpfarena.VM}, k)
				if err != nil {
					t.Fatal(err)
				}
				if len(results) == 0 {
					t.Fatal("no annotated test read")
				}
				counts := map[conformance.Status]int{}
				for _, r := range results {
					counts[r.Status]++
					key := k + "/" + name + "/" + r.Program
					why, known := vmSelftestDifferences[key]
					switch {
					case r.Status == conformance.Fail && !known:
						t.Errorf("%s: %s", r.Program, r.Reason)
					case r.Status == conformance.Pass && known:
						t.Errorf("%s passes now; remove it from vmSelftestDifferences (%s)", r.Program, why)
					}
				}
				t.Logf("vm as %s: %d passed, %d failed (known differences), %d skipped",
					k, counts[conformance.Pass], counts[conformance.Fail], counts[conformance.Skip])
			})
		}
	}
}

// selftestEngines are the engines that run kernel version k's selftests:
// the vm modelling it, and the kernel engine inside the matrix guest
// running that version.
func selftestEngines(k string) []bpfarena.Engine {
	if testenv.MatrixKernel() == k {
		return []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel}
	}
	return []bpfarena.Engine{bpfarena.VM}
}

// selftestLoad loads a selftest object on eng (the vm modelling kernel),
// with globals set first.
func selftestLoad(t *testing.T, eng bpfarena.Engine, kernel, name string, sets map[string][]byte) *bpfarena.Collection {
	t.Helper()
	spec, err := bpfarena.LoadSpec(selftestObject(t, kernel, name))
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(sets))
	for k := range sets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := spec.SetVariable(k, sets[k]); err != nil {
			t.Fatal(err)
		}
	}
	opts := bpfarena.Options{Engine: eng}
	if eng == bpfarena.VM {
		opts.Kernel = kernel
	}
	coll, err := bpfarena.Load(spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll
}

func runOK(t *testing.T, coll *bpfarena.Collection, prog string, opts bpfarena.RunOptions) {
	t.Helper()
	p := coll.Program(prog)
	if p == nil {
		t.Fatalf("no program %s", prog)
	}
	res, err := p.Test(opts)
	if err != nil {
		t.Fatalf("%s: %v", prog, err)
	}
	if res.Retval != 0 {
		t.Fatalf("%s: retval %d, want 0", prog, int32(res.Retval))
	}
}

func globalBytes(t *testing.T, coll *bpfarena.Collection, name string) []byte {
	t.Helper()
	v, err := coll.Variable(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.Read()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func globalInt(t *testing.T, coll *bpfarena.Collection, name string) int64 {
	t.Helper()
	b := globalBytes(t, coll, name)
	switch len(b) {
	case 1:
		return int64(int8(b[0]))
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	case 8:
		return int64(binary.LittleEndian.Uint64(b))
	}
	t.Fatalf("%s: %d bytes is not an integer", name, len(b))
	return 0
}

// arenaWord reads n (4 or 8) bytes at a user address of the arena.
func arenaWord(t *testing.T, coll *bpfarena.Collection, addr uint64, n int) uint64 {
	t.Helper()
	b, err := coll.Arena().Bytes(addr, uint64(n))
	if err != nil {
		t.Fatalf("arena read at %#x: %v", addr, err)
	}
	if n == 4 {
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// The prog_tests runner of arena_list: add cnt elements, walk the list
// from user space, delete them, compare the sums.
func TestKernelSelftestArenaList(t *testing.T) {
	for _, k := range selftestKernels {
		for _, eng := range selftestEngines(k) {
			for _, cnt := range []int{1, 1000} {
				t.Run(k+"/"+eng.String()+"/"+strconv.Itoa(cnt), func(t *testing.T) {
					coll := selftestLoad(t, eng, k, "arena_list", nil)
					le := make([]byte, 4)
					binary.LittleEndian.PutUint32(le, uint32(cnt))
					cntVar, err := coll.Variable("cnt")
					if err != nil {
						t.Fatal(err)
					}
					if err := cntVar.Write(le); err != nil {
						t.Fatal(err)
					}
					runOK(t, coll, "arena_list_add", bpfarena.RunOptions{})
					if globalInt(t, coll, "skip") != 0 {
						t.Skip("compiler without arena casts (the runner skips too)")
					}
					want := int64(cnt) * int64(cnt-1) / 2
					head := uint64(globalInt(t, coll, "list_head"))
					if got := listSum(t, coll, head); got != want {
						t.Errorf("sum of elems walked from Go: %d, want %d", got, want)
					}
					if got := globalInt(t, coll, "arena_sum"); got != want {
						t.Errorf("__arena sum of elems: %d, want %d", got, want)
					}
					if got := globalInt(t, coll, "test_val"); got != int64(cnt+1) {
						t.Errorf("num of elems: %d, want %d", got, cnt+1)
					}
					runOK(t, coll, "arena_list_del", bpfarena.RunOptions{})
					if got := listSum(t, coll, head); got != 0 {
						t.Errorf("sum after del: %d, want 0", got)
					}
					if got := globalInt(t, coll, "list_sum"); got != want {
						t.Errorf("sum computed by the program: %d, want %d", got, want)
					}
				})
			}
		}
	}
}

// listSum walks struct arena_list_head { first } and struct elem { node
// { next, pprev }; u64 value } as the runner's list_for_each_entry does.
func listSum(t *testing.T, coll *bpfarena.Collection, head uint64) int64 {
	t.Helper()
	var sum int64
	n := arenaWord(t, coll, head, 8)
	for steps := 0; n != 0; steps++ {
		if steps > 1<<20 {
			t.Fatal("list does not end")
		}
		sum += int64(int32(arenaWord(t, coll, n+16, 8)))
		n = arenaWord(t, coll, n, 8)
	}
	return sum
}

// The runner of arena_htab: the program fills a hash table in the arena;
// user space looks keys up by walking buckets and lists.
func TestKernelSelftestArenaHtab(t *testing.T) {
	for _, k := range selftestKernels {
		for _, eng := range selftestEngines(k) {
			for _, tc := range []struct{ obj, prog string }{{"arena_htab", "arena_htab_llvm"}, {"arena_htab_asm", "arena_htab_asm"}} {
				t.Run(k+"/"+eng.String()+"/"+tc.obj, func(t *testing.T) {
					coll := selftestLoad(t, eng, k, tc.obj, nil)
					// The runner faults in the page at offset 0 first.
					if b, err := coll.Arena().Bytes(coll.Arena().Start(), 4); err != nil {
						t.Fatal(err)
					} else {
						binary.LittleEndian.PutUint32(b, 0x55aa)
					}
					runOK(t, coll, tc.prog, bpfarena.RunOptions{})
					if globalInt(t, coll, "skip") != 0 {
						t.Skip("compiler without arena casts (the runner skips too)")
					}
					htab := uint64(globalInt(t, coll, "htab_for_user"))
					if htab == 0 {
						t.Fatal("htab_for_user is NULL")
					}
					buckets := arenaWord(t, coll, htab, 8)
					nBuckets := arenaWord(t, coll, htab+8, 4)
					if buckets == 0 || nBuckets == 0 {
						t.Fatalf("htab buckets %#x n_buckets %d", buckets, nBuckets)
					}
					for key := uint64(0); key < 16; key += 4 {
						if got := htabLookup(t, coll, buckets, nBuckets, key); got != int64(key) {
							t.Errorf("lookup %d: %d, want key == value", key, got)
						}
					}
				})
			}
		}
	}
}

// htabLookup is bpf_arena_htab.h's htab_lookup_elem in Go: bucket
// key & (n-1), then struct hashtab_elem { int hash, key, value;
// struct arena_list_node hash_node } along the bucket's list.
func htabLookup(t *testing.T, coll *bpfarena.Collection, buckets, n, key uint64) int64 {
	t.Helper()
	node := arenaWord(t, coll, buckets+8*(key&(n-1)), 8)
	for steps := 0; node != 0; steps++ {
		if steps > 1<<16 {
			t.Fatal("bucket list does not end")
		}
		elem := node - 16
		if arenaWord(t, coll, elem, 4) == key && arenaWord(t, coll, elem+4, 4) == key {
			return int64(int32(arenaWord(t, coll, elem+8, 4)))
		}
		node = arenaWord(t, coll, node, 8)
	}
	return 0
}

// The runner of arena_atomics: each program runs once (pid set so that it
// acts) and leaves its results in arena globals.
func TestKernelSelftestArenaAtomics(t *testing.T) {
	checks := []struct {
		prog string
		want map[string]int64
	}{
		{"add", map[string]int64{"add64_value": 3, "add64_result": 1, "add32_value": 3, "add32_result": 1,
			"add_stack_value_copy": 3, "add_stack_result": 1, "add_noreturn_value": 3}},
		{"sub", map[string]int64{"sub64_value": -1, "sub64_result": 1, "sub32_value": -1, "sub32_result": 1,
			"sub_stack_value_copy": -1, "sub_stack_result": 1, "sub_noreturn_value": -1}},
		{"and", map[string]int64{"and64_value": 0x010 << 32, "and32_value": 0x010}},
		{"or", map[string]int64{"or64_value": 0x111 << 32, "or32_value": 0x111}},
		{"xor", map[string]int64{"xor64_value": 0x101 << 32, "xor32_value": 0x101}},
		{"cmpxchg", map[string]int64{"cmpxchg64_value": 2, "cmpxchg64_result_fail": 1, "cmpxchg64_result_succeed": 1,
			"cmpxchg32_value": 2, "cmpxchg32_result_fail": 1, "cmpxchg32_result_succeed": 1}},
		{"xchg", map[string]int64{"xchg64_value": 2, "xchg64_result": 1, "xchg32_value": 2, "xchg32_result": 1}},
		{"uaf", map[string]int64{"uaf_recovery_fails": 0}},
	}
	for _, k := range selftestKernels {
		for _, eng := range selftestEngines(k) {
			for _, c := range checks {
				t.Run(k+"/"+eng.String()+"/"+c.prog, func(t *testing.T) {
					pid := make([]byte, 4)
					binary.LittleEndian.PutUint32(pid, uint32(os.Getpid()))
					coll := selftestLoad(t, eng, k, "arena_atomics", map[string][]byte{"pid": pid})
					if _, err := coll.Variable("skip_all_tests"); err == nil && globalInt(t, coll, "skip_all_tests") != 0 {
						t.Skip("compiler without arena atomics (the runner skips too)")
					}
					runOK(t, coll, c.prog, bpfarena.RunOptions{})
					for name, want := range c.want {
						got := globalInt(t, coll, name)
						if size := len(globalBytes(t, coll, name)); size == 4 {
							want = int64(int32(want))
						}
						if got != want {
							t.Errorf("%s = %d (%#x), want %d (%#x)", name, got, got, want, want)
						}
					}
				})
			}
		}
	}
}

// The runner of arena_strsearch: the program checks its own matches.
func TestKernelSelftestArenaStrsearch(t *testing.T) {
	for _, k := range selftestKernels {
		for _, eng := range selftestEngines(k) {
			t.Run(k+"/"+eng.String(), func(t *testing.T) {
				coll := selftestLoad(t, eng, k, "arena_strsearch", nil)
				runOK(t, coll, "arena_strsearch", bpfarena.RunOptions{})
				if globalInt(t, coll, "skip") != 0 {
					t.Skip("compiler without arena casts (the runner skips too)")
				}
			})
		}
	}
}

// The runner of arena_spin_lock: threads run the program repeat times
// each on one lock; the counter the lock protects must count every run.
func TestKernelSelftestArenaSpinLock(t *testing.T) {
	const threads, repeat = 2, 100
	if raceDetector {
		// The lock's unlock is a plain store (smp_store_release on x86),
		// which orders memory on the hardware but is not a release to
		// Go's race detector: every critical section would be reported.
		t.Skip("arena spin lock unlocks with plain stores, which the race detector cannot see as releases")
	}
	for _, k := range selftestKernels {
		for _, eng := range selftestEngines(k) {
			for _, size := range []int{1, 1000} {
				t.Run(k+"/"+eng.String()+"/"+strconv.Itoa(size), func(t *testing.T) {
					cs := make([]byte, 4)
					binary.LittleEndian.PutUint32(cs, uint32(size))
					limit := make([]byte, 4)
					binary.LittleEndian.PutUint32(limit, repeat*threads)
					if eng == bpfarena.Kernel && !hostKernelConfig() {
						t.Skip("no kernel configuration here (/proc/config.gz, /boot/config-RELEASE): CONFIG_NR_CPUS, a __kconfig extern, cannot be filled, as libbpf could not")
					}
					coll := selftestLoad(t, eng, k, "arena_spin_lock", map[string][]byte{"cs_count": cs, "limit": limit})
					if globalInt(t, coll, "test_skip") == 2 {
						t.Skip("the program reports arena spin locks unsupported (the runner skips too)")
					}
					errs := make(chan error, threads)
					for i := 0; i < threads; i++ {
						// The runner pins each thread to its own CPU; the
						// lock's queue nodes are per CPU.
						go func(cpu uint32) {
							var err error
							for j := 0; j < repeat && err == nil; j++ {
								var res *bpfarena.RunResult
								res, err = coll.Program("prog").Test(bpfarena.RunOptions{Data: make([]byte, 64), CPU: cpu})
								if err == nil && res.Retval != 0 && int32(res.Retval) != -95 {
									err = fmt.Errorf("retval %d", int32(res.Retval))
								}
							}
							errs <- err
						}(uint32(i))
					}
					for i := 0; i < threads; i++ {
						if err := <-errs; err != nil {
							t.Fatal(err)
						}
					}
					if globalInt(t, coll, "test_skip") == 3 {
						t.Skip("CONFIG_NR_CPUS exceeds what the arena spin lock supports (the runner skips too)")
					}
					if got := globalInt(t, coll, "counter"); got != repeat*threads {
						t.Errorf("counter %d, want %d", got, repeat*threads)
					}
				})
			}
		}
	}
}

// TestKernelSelftestsKernelEngine runs the annotated tests on the kernel
// engine inside the matrix's kernels, each with its own version's objects. Every test must pass except the
// ones listed in kernelSelftestDifferences.
func TestKernelSelftestsKernelEngine(t *testing.T) {
	host := testenv.MatrixKernel()
	if !slices.Contains(selftestKernels, host) {
		t.Skipf("the kernel engine runs the selftests of the matrix kernels %v; this is not one (%q)", selftestKernels, host)
	}
	for _, name := range []string{"verifier_arena", "verifier_arena_large"} {
		t.Run(host+"/"+name, func(t *testing.T) {
			spec, err := bpfarena.LoadSpec(selftestObject(t, host, name))
			if err != nil {
				t.Fatal(err)
			}
			results, err := conformance.RunSpec(spec, []bpfarena.Engine{bpfarena.Kernel})
			if err != nil {
				t.Fatal(err)
			}
			counts := map[conformance.Status]int{}
			for _, r := range results {
				counts[r.Status]++
				why, known := kernelSelftestDifferences[host+"/"+name+"/"+r.Program]
				switch {
				case r.Status == conformance.Fail && !known:
					t.Errorf("%s: %s", r.Program, r.Reason)
				case r.Status == conformance.Pass && known:
					t.Errorf("%s passes now; remove it from kernelSelftestDifferences (%s)", r.Program, why)
				}
			}
			t.Logf("kernel engine on %s: %d passed, %d failed, %d skipped", host, counts[conformance.Pass], counts[conformance.Fail], counts[conformance.Skip])
		})
	}
}

// hostKernelConfig reports whether the running kernel's configuration is
// where libbpf looks for it.
func hostKernelConfig() bool {
	if _, err := os.Stat("/proc/config.gz"); err == nil {
		return true
	}
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return false
	}
	_, err = os.Stat("/boot/config-" + strings.TrimSpace(string(rel)))
	return err == nil
}
