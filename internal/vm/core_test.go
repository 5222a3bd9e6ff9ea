package vm

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/kconfig"
	"github.com/bpfarena/bpfarena/object"
)

// TestCORE compiles a program with CO-RE field-existence relocations
// against kernel types and checks that the vm resolves them as the kernel
// engine does (against the running kernel's BTF).
func TestCORE(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not installed")
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("no kernel BTF")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "core.bpf.c")
	const prog = `
#define SEC(n) __attribute__((section(n), used))
struct task_struct___x {
	int pid;
	int no_such_field_here;
} __attribute__((preserve_access_index));

SEC("syscall") int core(void *ctx)
{
	struct task_struct___x *t = 0;
	int a = __builtin_preserve_field_info(t->pid, 2);
	int b = __builtin_preserve_field_info(t->no_such_field_here, 2);
	return a * 10 + b;
}
char _license[] SEC("license") = "GPL";
`
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "core.bpf.o")
	if out, err := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-c", src, "-o", obj).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	spec, err := object.Load(obj)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Programs) != 1 || len(spec.Programs[0].CORERelos) == 0 {
		t.Fatal("no CO-RE relocations in the object")
	}
	c, err := load(spec, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.progs["core"].Run(engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Retval != 10 {
		t.Fatalf("retval %d, want 10 (pid exists, the other field does not)", res.Retval)
	}
}

// TestKconfig: __kconfig externs get the host's values, as on the kernel
// engine.
func TestKconfig(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not installed")
	}
	if _, err := os.Stat("/proc/config.gz"); err != nil {
		t.Skip("no /proc/config.gz")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "kc.bpf.c")
	const prog = `
#define SEC(n) __attribute__((section(n), used))
extern unsigned int LINUX_KERNEL_VERSION __attribute__((section(".kconfig")));
extern _Bool CONFIG_BPF_SYSCALL __attribute__((section(".kconfig"), weak));
extern int CONFIG_NO_SUCH_OPTION_HERE __attribute__((section(".kconfig"), weak));

SEC("syscall") int kc(void *ctx)
{
	return (LINUX_KERNEL_VERSION >> 16) * 100 + CONFIG_BPF_SYSCALL * 10 + CONFIG_NO_SUCH_OPTION_HERE;
}
char _license[] SEC("license") = "GPL";
`
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "kc.bpf.o")
	if out, err := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-c", src, "-o", obj).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	spec, err := object.Load(obj)
	if err != nil {
		t.Fatal(err)
	}
	c, err := load(spec, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.progs["kc"].Run(engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ver := kconfig.Host().Version
	if want := (ver>>16)*100 + 10; res.Retval != want {
		t.Fatalf("retval %d, want %d", res.Retval, want)
	}
}
