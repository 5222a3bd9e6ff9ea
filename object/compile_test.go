package object

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// testHeader holds the few macros the test programs need, so that the
// tests depend on nothing but clang.
const testHeader = `
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define __concat(a, b) a##b
#define __xconcat(a, b) __concat(a, b)
#define __ulong(name, val) enum { __xconcat(__unique_value, __COUNTER__) = val } name
#define __arena __attribute__((address_space(1)))
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig")))
#define __weak __attribute__((weak))
#define __arg_arena __attribute__((btf_decl_tag("arg:arena")))
#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __noinline __attribute__((noinline))
typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;
enum { MAP_HASH = 1, MAP_ARRAY = 2, MAP_ARRAY_OF_MAPS = 12, MAP_ARENA = 33 };
#define F_MMAPABLE (1 << 10)
#define F_NO_USER_CONV (1 << 18)
static long (* const bpf_loop)(u32 nr, void *cb, void *ctx, u64 flags) = (void *)181;
char _license[] SEC("license") = "GPL";
`

// testSources are the programs most tests read, by name.
var testSources = map[string]string{
	// everything at once: arena with map_extra, globals in each
	// section, externs, subprograms, callbacks, decl tags
	"full": `
struct {
	__uint(type, MAP_ARENA);
	__uint(map_flags, F_MMAPABLE);
	__uint(max_entries, 100);
	__ulong(map_extra, 0x100000000000ULL);
} arena SEC(".maps");

struct {
	__uint(type, MAP_HASH);
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, u64);
} hmap SEC(".maps");

struct inner { __uint(type, MAP_ARRAY); __uint(max_entries, 4); __type(key, u32); __type(value, u32); };
struct {
	__uint(type, MAP_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__uint(key_size, 4);
	__array(values, struct inner);
} outer SEC(".maps");

void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, u32 page_cnt, int node_id, u64 flags) __ksym __weak;
extern int CONFIG_NR_CPUS __kconfig;
extern u8 CONFIG_X __kconfig __weak;
extern u64 LINUX_KERNEL_VERSION __kconfig;
extern const void bpf_prog_active __ksym;

u64 counter;
int dval = 5;
const volatile int rval = 7;
u32 arr[3] SEC(".data.extra") = {1, 2, 3};
u64 __arena ag1 = 11;
int __arena ag2;
u64 __arena *head;

static int cb(u32 i, void *ctx) { counter += i; return 0; }
__noinline int sub(int x) { return x * dval + rval; }
__noinline static int leaf(int x) { return x + 1; }
__noinline static int mid(int x) { return leaf(x) * 2; }
__noinline int gfun(int __arena *p __arg_arena, int n) { return p ? *p + n : n; }

SEC("syscall") __tag("comment:test_expect_success") __tag("comment:test_retval=0")
int prog1(void *ctx)
{
	bpf_loop(10, cb, 0, 0);
	int __arena *p = bpf_arena_alloc_pages(&arena, 0, 1, -1, 0);
	ag2 = ag1 + rval + CONFIG_NR_CPUS + CONFIG_X + arr[1];
	head = (u64 __arena *)p;
	return sub(counter) + mid(3) + gfun(p, 1) + (int)(long)&bpf_prog_active + (int)LINUX_KERNEL_VERSION;
}

SEC("syscall") int prog2(void *ctx) { return mid(sub(2)); }

SEC("xdp") int xprog(void *ctx) { u32 k = 0; return bpf_loop(1, cb, &k, 0) + (int)(long)&hmap + (int)(long)&outer; }
`,
	// typed ksyms and a kfunc declared without parameter names
	"ksym": `
extern const int bpf_prog_active __ksym;
extern int bpf_unnamed(int, void *) __ksym __weak;
SEC("syscall") int p(void *ctx) { return bpf_prog_active + bpf_unnamed(1, ctx); }
`,
	// no subprograms, no BTF-defined maps
	"small": `
int value = 3;
SEC("tc") int tcprog(void *ctx) { return value; }
`,
	// .rodata strings and static data referenced by section symbol; a
	// variable in a section of its own, which is not global data
	"static": `
int unused SEC(".custom") = 1;
static volatile int s1 = 4, s2 = 9;
static volatile const char msg[] = "hello";
SEC("socket") int sock(void *ctx) { return s1 + s2 + msg[1]; }
`,
}

var compileMu sync.Mutex
var compiled = map[string]string{}

// compile builds one of the test programs with clang-19 and returns the
// object's path, or skips the test if clang-19 is not installed.
func compile(t testing.TB, name, src string) string {
	t.Helper()
	return compileFlags(t, name, src, "-g")
}

// compileFlags is compile with other clang flags than -g.
func compileFlags(t testing.TB, name, src string, flags ...string) string {
	t.Helper()
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 is not installed")
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	key := name + "\x00" + src + "\x00" + strings.Join(flags, " ")
	if p, ok := compiled[key]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "object-test-")
	if err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(dir, name+".bpf.c")
	o := filepath.Join(dir, name+".bpf.o")
	if err := os.WriteFile(c, []byte(testHeader+src), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(slices.Clone(flags), "-O2", "-target", "bpf", "-mcpu=v3", "-c", c, "-o", o)
	out, err := exec.Command(clang, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("clang-19 %s: %v\n%s", name, err, out)
	}
	compiled[key] = o
	return o
}

// mustLoad compiles and loads a test program.
func mustLoad(t testing.TB, name, src string) *Spec {
	t.Helper()
	spec, err := Load(compile(t, name, src))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, p := range compiled {
		os.RemoveAll(filepath.Dir(p))
	}
	os.Exit(code)
}
