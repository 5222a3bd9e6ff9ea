package object

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// loadKernelBTF hands raw BTF to the running kernel and returns its
// verifier log on failure. It skips the test where that is not possible.
func loadKernelBTF(t *testing.T, raw []byte) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading BTF into the kernel needs root")
	}
	log := make([]byte, 1<<16)
	attr := struct {
		btf      uint64
		logBuf   uint64
		size     uint32
		logSize  uint32
		logLevel uint32
	}{
		btf:      uint64(uintptr(unsafe.Pointer(&raw[0]))),
		logBuf:   uint64(uintptr(unsafe.Pointer(&log[0]))),
		size:     uint32(len(raw)),
		logSize:  uint32(len(log)),
		logLevel: 1,
	}
	const bpfBTFLoad = 18
	fd, _, errno := unix.Syscall(unix.SYS_BPF, bpfBTFLoad, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno == unix.ENOSYS || errno == unix.EPERM {
		t.Skipf("bpf(BPF_BTF_LOAD): %v", errno)
	}
	if errno != 0 {
		n := 0
		for n < len(log) && log[n] != 0 {
			n++
		}
		t.Fatalf("kernel refused RawBTF: %v\n%s", errno, log[:n])
	}
	unix.Close(int(fd))
}

// TestRawBTFKernel checks that the kernel accepts the patched BTF of every
// object the tests build and of the project's example objects.
func TestRawBTFKernel(t *testing.T) {
	objs := projectObjects()
	for name, src := range testSources {
		if o := compile(t, name, src); o != "" {
			objs = append(objs, o)
		}
	}
	for _, path := range objs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			spec, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if spec.RawBTF == nil {
				t.Skip("no BTF")
			}
			loadKernelBTF(t, spec.RawBTF)
		})
	}
}
