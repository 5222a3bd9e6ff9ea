// Command matrix runs the project's tests inside Debian's kernels under
// qemu, the kernel engine's oracle.
//
//	go run ./internal/cmd/matrix test [-kernel 6.1,6.12,7.3] [-host] [-timeout 20m] [-run RE] [PKG...]
//	go run ./internal/cmd/matrix fetch [KERNEL...]
//	matrix exec -kernel K BINARY ARGS...   (for go test -exec)
//
// test builds each package's test binary, boots each kernel with it, and
// prints one table: kernel | run | passed | failed | skipped. It fails when
// any kernel has a failure or when no kernel ran the arena tests.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/bpfarena/bpfarena/internal/kernel"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/bpfarena/bpfarena/internal/matrix"
)

func main() {
	if matrix.IsGuest() {
		matrix.GuestMain()
	}
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "test":
		err = cmdTest(ctx, os.Args[2:])
	case "exec":
		var code int
		code, err = cmdExec(ctx, os.Args[2:])
		if err == nil {
			os.Exit(code)
		}
	case "fetch":
		err = cmdFetch(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "matrix:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  matrix test [-kernel LIST] [-host] [-timeout D] [-run RE] [PKG...]
  matrix fetch [KERNEL...]
  matrix exec -kernel K BINARY ARGS...`)
	os.Exit(2)
}

func allKernels() []string {
	var names []string
	for _, im := range matrix.Images {
		names = append(names, im.Name)
	}
	return names
}

func cmdFetch(args []string) error {
	if len(args) == 0 {
		args = allKernels()
	}
	for _, name := range args {
		k, err := matrix.Fetch(name)
		if err != nil {
			return err
		}
		// The BTF of kernels with arenas, for the vm's --kernel.
		if v, err := kversion.ParseVersion(name); err == nil && !v.Less(kversion.ArenaSince) {
			if err := matrix.ExtractBTF(context.Background(), k); err != nil {
				return err
			}
		}
		fmt.Printf("%s\t%s\t%s\n", k.Name, k.Release, k.Vmlinuz)
	}
	return nil
}

// cmdExec runs one binary in a guest, with the module around the working
// directory as its file tree: go test -exec calls it in the package's
// directory.
func cmdExec(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("exec", flag.ExitOnError)
	kernel := fs.String("kernel", "", "matrix kernel to boot")
	mem := fs.Int("m", 0, "guest memory in MiB")
	timeout := fs.Duration("timeout", 30*time.Minute, "guest wall-clock limit")
	fs.Parse(args)
	if *kernel == "" || fs.NArg() == 0 {
		return 0, errors.New("exec needs -kernel and a binary")
	}
	k, err := matrix.Fetch(*kernel)
	if err != nil {
		return 0, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	root := moduleRoot(wd)
	rel, _ := filepath.Rel(root, wd)
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BPFARENA_") || strings.HasPrefix(kv, "GOTRACEBACK=") || strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	// A guest that dies before the job wrote anything (a kernel panic
	// while booting, which qemu's emulation causes now and then) is
	// booted again; once the job has written output, its result stands.
	for attempt := 1; ; attempt++ {
		out := &countingWriter{w: os.Stdout}
		code, err := matrix.Run(ctx, k, matrix.Spec{
			Binary: fs.Arg(0), Args: fs.Args()[1:], Tree: root, Dir: rel, Env: env,
			Stdout: out, MemoryMiB: *mem,
		})
		if err == nil || !errors.Is(err, matrix.ErrGuest) || out.n > 0 || attempt == 3 || ctx.Err() != nil {
			return code, err
		}
		fmt.Fprintf(os.Stderr, "matrix: kernel %s died before the job ran (%v); booting it again\n", k.Name, firstLine(err))
	}
}

// countingWriter counts what passes through.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func moduleRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// row is one line of the table.
type row struct {
	kernel, release, run string
	arena                bool // the kernel has arenas: the kernel tests must run
	note                 string
	passed, failed, skip int
	failures             []string
}

func cmdTest(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("test", flag.ExitOnError)
	kernels := fs.String("kernel", strings.Join(allKernels(), ","), "comma-separated matrix kernels")
	host := fs.Bool("host", false, "also run on the host kernel where it permits arenas")
	timeout := fs.Duration("timeout", 30*time.Minute, "go test -timeout per package and kernel")
	run := fs.String("run", "", "go test -run")
	verbose := fs.Bool("v", false, "print every test's output")
	fs.Parse(args)
	pkgs := fs.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	self, err := buildSelf()
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(self))

	var rows []row
	for _, name := range strings.Split(*kernels, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		k, err := matrix.Fetch(name)
		if err != nil {
			return err
		}
		fmt.Printf("==== kernel %s (%s) ====\n", k.Name, k.Release)
		r := goTest(ctx, []string{"-exec", self + " exec -kernel " + name}, pkgs, *run, *timeout, *verbose)
		r.kernel, r.release = name, k.Release
		if v, err := kversion.ParseVersion(name); err == nil && !v.Less(kversion.ArenaSince) {
			r.arena = true
		}
		rows = append(rows, r)
	}
	if *host {
		rel, _ := kversion.HostRelease()
		if err := kernel.ProbeArena(); err != nil {
			// Run elsewhere, the kernel halves skip; here they would
			// say nothing the matrix does not.
			fmt.Printf("==== host kernel (%s): not run, it refuses arena maps (%v) ====\n", rel, err)
			rows = append(rows, row{kernel: "host", release: rel, run: "-", note: "refuses arena maps: " + err.Error()})
		} else {
			fmt.Printf("==== host kernel (%s) ====\n", rel)
			r := goTest(ctx, nil, pkgs, *run, *timeout, *verbose)
			r.kernel, r.release, r.arena = "host", rel, true
			rows = append(rows, r)
		}
	}
	return report(os.Stdout, rows)
}

func buildSelf() (string, error) {
	dir, err := os.MkdirTemp("", "bpfarena-matrix-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "matrix")
	cmd := exec.Command("go", "build", "-o", out, "github.com/bpfarena/bpfarena/internal/cmd/matrix")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the matrix runner: %w", err)
	}
	return out, nil
}

// testEvent is the part of go test -json's output the table needs.
type testEvent struct {
	Action, Package, Test, Output string
}

func goTest(ctx context.Context, execArgs, pkgs []string, run string, timeout time.Duration, verbose bool) row {
	args := append([]string{"test", "-json", "-count=1", "-timeout", timeout.String()}, execArgs...)
	if run != "" {
		args = append(args, "-run", run)
	}
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	pipe, _ := cmd.StdoutPipe()
	var r row
	if err := cmd.Start(); err != nil {
		r.run = "error"
		r.failures = append(r.failures, err.Error())
		return r
	}
	start := time.Now()
	outputs := map[string][]string{}
	sc := bufio.NewScanner(pipe)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var ev testEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			fmt.Println(sc.Text())
			continue
		}
		key := ev.Package + " " + ev.Test
		switch ev.Action {
		case "output":
			if verbose {
				fmt.Print(ev.Output)
			}
			outputs[key] = append(outputs[key], ev.Output)
		case "pass", "fail", "skip":
			if ev.Test == "" {
				// Package result: a failure with no failed test is a
				// build error, a crash or a timeout.
				fmt.Printf("%-4s %s\n", strings.ToUpper(ev.Action), ev.Package)
				if ev.Action == "fail" {
					r.failures = append(r.failures, ev.Package)
					if !verbose {
						fmt.Print(strings.Join(outputs[key], ""))
					}
				}
				continue
			}
			switch ev.Action {
			case "pass":
				r.passed++
			case "fail":
				r.failed++
				r.failures = append(r.failures, key)
				if !verbose {
					fmt.Print(strings.Join(outputs[key], ""))
				}
			case "skip":
				r.skip++
			}
			delete(outputs, key)
		}
	}
	err := cmd.Wait()
	r.run = time.Since(start).Round(time.Second).String()
	if err != nil && len(r.failures) == 0 {
		r.failures = append(r.failures, "go test: "+err.Error())
	}
	return r
}

func report(w io.Writer, rows []row) error {
	fmt.Fprintln(w, "\n==== kernel matrix ====")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "kernel\trelease\tarenas\trun\tpassed\tfailed\tskipped\t")
	var bad []string
	oracle := false
	for _, r := range rows {
		failed := r.failed
		if failed == 0 && len(r.failures) > 0 {
			failed = len(r.failures)
		}
		arenas := "no"
		if r.arena {
			arenas = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.kernel, r.release, arenas, r.run, r.passed, failed, r.skip, r.note)
		for _, f := range r.failures {
			bad = append(bad, r.kernel+": "+f)
		}
		if r.arena && r.passed > 0 && failed == 0 {
			oracle = true
		}
	}
	tw.Flush()
	if !oracle {
		bad = append(bad, "no kernel with arenas ran the tests: the kernel engine went untested")
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("%d failures:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
	return nil
}
