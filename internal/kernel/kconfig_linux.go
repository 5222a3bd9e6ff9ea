//go:build linux

package kernel

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// kernelConfig reads the running kernel's configuration: /proc/config.gz,
// else /boot/config-<release>. A missing config is not an error: only
// non-weak externs that need a value fail.
func kernelConfig() map[string]string {
	cfg := make(map[string]string)
	var r io.Reader
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		if z, err := gzip.NewReader(f); err == nil {
			r = z
		}
	}
	if r == nil {
		var u unix.Utsname
		if unix.Uname(&u) != nil {
			return cfg
		}
		f, err := os.Open("/boot/config-" + unix.ByteSliceToString(u.Release[:]))
		if err != nil {
			return cfg
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "CONFIG_") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			cfg[k] = v
		}
	}
	return cfg
}

// kernelVersion is LINUX_KERNEL_VERSION: KERNEL_VERSION(a, b, c) of the
// running kernel, with c capped at 255 as the kernel's macro does.
func kernelVersion() uint32 {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return 0
	}
	rel := unix.ByteSliceToString(u.Release[:])
	var v [3]uint32
	for i, part := range strings.SplitN(rel, ".", 3) {
		end := strings.IndexFunc(part, func(r rune) bool { return r < '0' || r > '9' })
		if end >= 0 {
			part = part[:end]
		}
		n, _ := strconv.ParseUint(part, 10, 32)
		v[i] = uint32(n)
	}
	return v[0]<<16 | v[1]<<8 | min(v[2], 255)
}

// fillKconfig writes the value of every __kconfig extern into data (the
// .kconfig map's value), as libbpf does before creating the map.
func fillKconfig(data []byte, externs []*object.ExternSpec) error {
	var cfg map[string]string
	for _, e := range externs {
		if e.Kind != object.ExternKconfig {
			continue
		}
		var val string
		switch e.Name {
		case "LINUX_KERNEL_VERSION":
			val = strconv.FormatUint(uint64(kernelVersion()), 10)
		case "LINUX_HAS_BPF_COOKIE", "LINUX_HAS_SYSCALL_WRAPPER":
			// Both hold on every kernel with arenas (6.9+).
			val = "1"
		default:
			if cfg == nil {
				cfg = kernelConfig()
			}
			v, ok := cfg[e.Name]
			if !ok {
				if e.Weak {
					continue
				}
				return fmt.Errorf("kconfig extern %s: not set in the kernel config: %w", e.Name, unix.ESRCH)
			}
			val = v
		}
		if err := putKconfig(data, e, val); err != nil {
			return fmt.Errorf("kconfig extern %s=%s: %w", e.Name, val, err)
		}
	}
	return nil
}

// putKconfig encodes one config value by the extern's C type: y/n/m for
// bool and tristate (enum libbpf_tristate: no 0, yes 1, module 2),
// integers, and quoted strings into char arrays.
func putKconfig(data []byte, e *object.ExternSpec, val string) error {
	size, err := btf.Sizeof(e.Type)
	if err != nil {
		return err
	}
	off := int(e.Offset)
	if off+size > len(data) {
		return fmt.Errorf("offset %d size %d outside .kconfig (%d bytes)", off, size, len(data))
	}
	dst := data[off : off+size]
	if arr, ok := btf.UnderlyingType(e.Type).(*btf.Array); ok {
		s, err := strconv.Unquote(val)
		if err != nil {
			return fmt.Errorf("not a string: %w", err)
		}
		_ = arr
		n := copy(dst[:size-1], s)
		clear(dst[n:])
		return nil
	}
	var n uint64
	switch val {
	case "y":
		n = 1
	case "n":
		n = 0
	case "m":
		n = 2
		if i, ok := btf.UnderlyingType(e.Type).(*btf.Int); ok && i.Encoding == btf.Bool {
			return fmt.Errorf("module value for a bool")
		}
	default:
		v, err := strconv.ParseInt(val, 0, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(val, 0, 64)
			if uerr != nil {
				return fmt.Errorf("not a number: %w", err)
			}
			v = int64(u)
		}
		n = uint64(v)
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	if size > 8 {
		return fmt.Errorf("%d-byte integer", size)
	}
	copy(dst, b[:size])
	return nil
}
