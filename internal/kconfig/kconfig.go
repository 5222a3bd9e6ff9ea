// Package kconfig gives __kconfig externs their values, as libbpf does:
// the running kernel's build configuration (CONFIG_* from /proc/config.gz
// or /boot/config-<release>), its version, and the few values libbpf
// provides itself. Both engines fill the .kconfig map with it, so a program
// reading the configuration sees the same values on each.
package kconfig

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

// Config is a kernel configuration and version.
type Config struct {
	// Values maps CONFIG_* names to their text: y, n, m, a number or a
	// quoted string.
	Values map[string]string
	// Version is KERNEL_VERSION(a, b, c) of the release, 0 if unknown.
	Version uint32
}

// Host is the running kernel's configuration, read once. Where there is
// none (not Linux, no config file) it is empty.
var Host = sync.OnceValue(func() Config {
	c := Config{Values: map[string]string{}}
	release := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		release = strings.TrimSpace(string(b))
		c.Version = ParseVersion(release)
	}
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		if z, err := gzip.NewReader(f); err == nil {
			Parse(z, c.Values)
			return c
		}
	}
	if release != "" {
		if f, err := os.Open("/boot/config-" + release); err == nil {
			defer f.Close()
			Parse(f, c.Values)
		}
	}
	return c
})

// Parse adds the CONFIG_* assignments of a kernel config file to values.
func Parse(r io.Reader, values map[string]string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "CONFIG_") {
			values[k] = v
		}
	}
}

// ParseVersion turns a release such as "6.18.44-fc" into
// KERNEL_VERSION(6, 18, 44); the last part saturates at 255 as the
// kernel's macro does.
func ParseVersion(release string) uint32 {
	var v [3]uint64
	for i, part := range strings.SplitN(release, ".", 3) {
		if n := strings.IndexFunc(part, func(r rune) bool { return r < '0' || r > '9' }); n >= 0 {
			part = part[:n]
		}
		v[i], _ = strconv.ParseUint(part, 10, 32)
	}
	return uint32(min(v[0], 255)<<16 | min(v[1], 255)<<8 | min(v[2], 255))
}

// ErrMissing is returned for a non-weak extern the configuration lacks.
var ErrMissing = errors.New("not set in the kernel configuration")

// Fill writes the value of every __kconfig extern into data, the .kconfig
// map's value. A name the configuration lacks keeps its zero value when
// the extern is weak or strict is false, and is an error wrapping
// ErrMissing and ESRCH (libbpf's answer) otherwise.
func Fill(data []byte, externs []*object.ExternSpec, c Config, strict bool) error {
	for _, e := range externs {
		if e.Kind != object.ExternKconfig {
			continue
		}
		var val string
		switch e.Name {
		case "LINUX_KERNEL_VERSION":
			if c.Version == 0 {
				continue
			}
			val = strconv.FormatUint(uint64(c.Version), 10)
		case "LINUX_HAS_BPF_COOKIE", "LINUX_HAS_SYSCALL_WRAPPER":
			// Both hold on every kernel with arenas (6.9 and later).
			val = "y"
		default:
			v, ok := c.Values[e.Name]
			if !ok {
				if e.Weak || !strict {
					continue
				}
				return fmt.Errorf("kconfig extern %s: %w: %w", e.Name, ErrMissing, syscall.ESRCH)
			}
			val = v
		}
		if err := Put(data, e, val); err != nil {
			return fmt.Errorf("kconfig extern %s=%s: %w", e.Name, val, err)
		}
	}
	return nil
}

// Put encodes one value by the extern's C type: y/n/m into bool, char and
// enum libbpf_tristate (n 0, y 1, m 2; a char gets the letter itself),
// numbers into integers, quoted strings into char arrays.
func Put(data []byte, e *object.ExternSpec, val string) error {
	if e.Type == nil {
		return fmt.Errorf("no BTF type")
	}
	size, err := btf.Sizeof(e.Type)
	if err != nil {
		return err
	}
	if size <= 0 || int(e.Offset)+size > len(data) {
		return fmt.Errorf("%d bytes at offset %d do not fit in .kconfig (%d bytes)", size, e.Offset, len(data))
	}
	dst := data[e.Offset : int(e.Offset)+size]
	typ := btf.UnderlyingType(e.Type)
	if _, ok := typ.(*btf.Array); ok {
		s, err := strconv.Unquote(val)
		if err != nil {
			return fmt.Errorf("%q is not a string", val)
		}
		clear(dst)
		copy(dst[:size-1], s)
		return nil
	}
	if size > 8 {
		return fmt.Errorf("%d-byte integer", size)
	}
	var n uint64
	switch val {
	case "y", "n", "m":
		n = map[string]uint64{"n": 0, "y": 1, "m": 2}[val]
		if i, ok := typ.(*btf.Int); ok {
			switch {
			case i.Encoding&btf.Char != 0:
				n = uint64(val[0])
			case i.Encoding == btf.Bool && val == "m":
				return fmt.Errorf("a module (m) does not fit a bool")
			}
		}
	default:
		v, err := strconv.ParseInt(val, 0, 64)
		if err != nil {
			u, err2 := strconv.ParseUint(val, 0, 64)
			if err2 != nil {
				return fmt.Errorf("%q is not a number", val)
			}
			v = int64(u)
		}
		n = uint64(v)
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	copy(dst, b[:size])
	return nil
}
