//go:build linux

package matrix

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// IsGuest reports whether this process is the init of a matrix guest.
// Binaries that can be a guest's init call it first thing in main and
// then GuestMain.
func IsGuest() bool {
	if os.Getpid() != 1 {
		return false
	}
	_, err := os.Stat(guestJob)
	return err == nil
}

// GuestMain is the guest's init: it mounts what BPF programs and tests
// expect, runs the job with its output on the second serial port, writes
// the exit status on the console and powers off. It never returns.
func GuestMain() {
	code := runGuest()
	fmt.Fprintf(os.Stderr, "\n%s%d\n", statusPrefix, code)
	unix.Sync()
	// qemu runs with -no-reboot, so a reboot ends it at once; poweroff
	// would need ACPI and takes longer under TCG.
	unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	select {}
}

func runGuest() int {
	mounts := []struct {
		src, dst, fstype string
	}{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"tmpfs", "/run", "tmpfs"},
		{"bpffs", "/sys/fs/bpf", "bpf"},
		{"debugfs", "/sys/kernel/debug", "debugfs"},
		{"tracefs", "/sys/kernel/tracing", "tracefs"},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2"},
	}
	for _, m := range mounts {
		os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.fstype, 0, ""); err != nil && err != unix.EBUSY {
			fmt.Fprintf(os.Stderr, "matrix guest: mount %s: %v\n", m.dst, err)
		}
	}
	// The console (stderr here) carries kernel messages; the job's
	// output goes to ttyS1 alone, unchanged byte for byte.
	out, err := os.OpenFile("/dev/ttyS1", os.O_WRONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "matrix guest: %v\n", err)
		return 125
	}
	defer out.Close()
	if t, err := unix.IoctlGetTermios(int(out.Fd()), unix.TCGETS); err == nil {
		t.Oflag &^= unix.OPOST
		unix.IoctlSetTermios(int(out.Fd()), unix.TCSETS, t)
	}
	data, err := os.ReadFile(guestJob)
	if err != nil {
		fmt.Fprintf(out, "matrix guest: %v\n", err)
		return 125
	}
	var job Job
	if err := json.Unmarshal(data, &job); err != nil || len(job.Argv) == 0 {
		fmt.Fprintf(out, "matrix guest: bad job description: %v\n", err)
		return 125
	}
	if job.Argv[0] == catJob {
		// Copy guest files out, such as the kernel's BTF.
		for _, name := range job.Argv[1:] {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(os.Stderr, "matrix guest: %v\n", err)
				return 1
			}
			_, err = io.Copy(out, f)
			f.Close()
			if err != nil {
				fmt.Fprintf(os.Stderr, "matrix guest: %v\n", err)
				return 1
			}
		}
		unix.IoctlSetInt(int(out.Fd()), unix.TCSBRK, 1)
		return 0
	}
	cmd := exec.Command(job.Argv[0], job.Argv[1:]...)
	cmd.Dir = job.Dir
	cmd.Env = job.Env
	cmd.Stdout = out
	cmd.Stderr = out
	err = cmd.Run()
	// Wait until every byte left the serial port before the reboot.
	unix.IoctlSetInt(int(out.Fd()), unix.TCSBRK, 1)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				fmt.Fprintf(out, "matrix guest: %s: %v\n", job.Argv[0], ws.Signal())
				return 128 + int(ws.Signal())
			}
			return ee.ExitCode()
		}
		fmt.Fprintf(out, "matrix guest: %v\n", err)
		return 126
	}
	return 0
}
