package matrix

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Spec is one run in a guest.
type Spec struct {
	// Binary is the host path of the static program to run.
	Binary string
	// Args are its arguments.
	Args []string
	// Tree, if set, is a host directory copied to /work in the guest
	// (without .git and files of 16 MiB or more); Dir is the working
	// directory relative to it.
	Tree, Dir string
	// Files are extra host files, copied to /work/files/BASENAME.
	Files []string
	// Env is added to the guest's minimal environment.
	Env []string
	// Stdout receives the program's output as it runs; Console, if set,
	// the kernel's console.
	Stdout, Console io.Writer
	// MemoryMiB and CPUs size the guest (default 2048 and 2).
	MemoryMiB, CPUs int
}

// ErrNoQemu is returned when qemu-system-x86_64 is not installed.
var ErrNoQemu = errors.New("qemu-system-x86_64 not found (Debian: apt-get install qemu-system-x86)")

// ErrGuest is returned when the guest ended without reporting the job's
// exit status: a kernel panic, an init that could not run, a timeout.
var ErrGuest = errors.New("matrix guest failed")

// GuestPath is where a file of Spec.Files appears in the guest.
func GuestPath(hostFile string) string { return path.Join(guestWork, "files", filepath.Base(hostFile)) }

// Run boots k with the calling binary as init, runs the spec's program
// and returns its exit status.
func Run(ctx context.Context, k *Kernel, s Spec) (int, error) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return -1, ErrNoQemu
	}
	self, err := os.Executable()
	if err != nil {
		return -1, fmt.Errorf("matrix: %w", err)
	}
	for _, bin := range []string{self, s.Binary} {
		if bin == catJob {
			continue
		}
		if err := checkStatic(bin); err != nil {
			return -1, err
		}
	}
	tmp, err := os.MkdirTemp("", "bpfarena-matrix-")
	if err != nil {
		return -1, fmt.Errorf("matrix: %w", err)
	}
	defer os.RemoveAll(tmp)

	a := newArchive()
	a.addFile(guestInit, 0o755, hostFile(self))
	bin := catJob
	if s.Binary != catJob {
		bin = path.Join("/matrix/bin", filepath.Base(s.Binary))
		a.addFile(bin, 0o755, hostFile(s.Binary))
	}
	dir := guestWork
	if s.Tree != "" {
		if err := addTree(a, s.Tree, guestWork); err != nil {
			return -1, err
		}
		dir = path.Join(guestWork, filepath.ToSlash(s.Dir))
		a.addDir(dir)
	} else {
		a.addDir(guestWork)
	}
	for _, f := range s.Files {
		a.addFile(GuestPath(f), 0o644, hostFile(f))
	}
	env := []string{"PATH=/matrix/bin:/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", EnvKernel + "=" + k.Name}
	job := Job{Argv: append([]string{bin}, s.Args...), Dir: dir, Env: append(env, s.Env...)}
	jb, _ := json.Marshal(job)
	a.addBytes(guestJob, 0o644, jb)
	initrd := filepath.Join(tmp, "initramfs.cpio")
	f, err := os.Create(initrd)
	if err != nil {
		return -1, fmt.Errorf("matrix: %w", err)
	}
	err = a.writeTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return -1, fmt.Errorf("matrix: %w", err)
	}

	mem, cpus := s.MemoryMiB, s.CPUs
	if mem == 0 {
		mem = 2048
	}
	if cpus == 0 {
		cpus = 2
	}
	consoleLog := filepath.Join(tmp, "console.log")
	args := []string{
		"-accel", "tcg", "-cpu", "max", "-m", strconv.Itoa(mem), "-smp", strconv.Itoa(cpus),
		"-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
		"-kernel", k.Vmlinuz, "-initrd", initrd,
		"-append", "console=ttyS0 loglevel=4 panic=-1 rdinit=" + guestInit + " mitigations=off nokaslr",
		"-serial", "file:" + consoleLog,
		"-chardev", "stdio,id=out,signal=off", "-serial", "chardev:out",
	}
	cmd := exec.CommandContext(ctx, qemu, args...)
	cmd.Stdin = nil
	stdout := s.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	cmd.Stdout = stdout
	var qerr bytes.Buffer
	cmd.Stderr = &qerr
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	console, _ := os.ReadFile(consoleLog)
	if s.Console != nil {
		s.Console.Write(console)
	}
	if code, ok := exitStatus(console); ok {
		return code, nil
	}
	if ctx.Err() != nil {
		return -1, fmt.Errorf("kernel %s: %w: %v\n%s", k.Name, ErrGuest, ctx.Err(), tail(console, 30))
	}
	return -1, fmt.Errorf("kernel %s: %w: no exit status (qemu: %v %s)\n%s", k.Name, ErrGuest, runErr,
		strings.TrimSpace(qerr.String()), tail(console, 30))
}

// exitStatus finds the status line the guest's init writes last.
func exitStatus(console []byte) (int, bool) {
	code, found := 0, false
	sc := bufio.NewScanner(bytes.NewReader(console))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if i := strings.Index(line, statusPrefix); i >= 0 {
			if n, err := strconv.Atoi(strings.TrimSpace(line[i+len(statusPrefix):])); err == nil {
				code, found = n, true
			}
		}
	}
	return code, found
}

func tail(b []byte, lines int) string {
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

func hostFile(name string) func() (io.ReadCloser, int64, error) {
	return func() (io.ReadCloser, int64, error) {
		f, err := os.Open(name)
		if err != nil {
			return nil, 0, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, st.Size(), nil
	}
}

// addTree copies the regular files under root into the archive at dst.
func addTree(a *archive, root, dst string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			a.addDir(path.Join(dst, filepath.ToSlash(rel)))
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() >= 16<<20 {
			return nil
		}
		a.addFile(path.Join(dst, filepath.ToSlash(rel)), uint32(info.Mode().Perm()), hostFile(p))
		return nil
	})
}

// checkStatic refuses a dynamically linked binary: the guest has no
// libraries.
func checkStatic(bin string) error {
	f, err := elf.Open(bin)
	if err != nil {
		return fmt.Errorf("matrix: %s: %w", bin, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("matrix: %s is dynamically linked; the guest needs static binaries (build with CGO_ENABLED=0, and without -race)", bin)
		}
	}
	return nil
}
