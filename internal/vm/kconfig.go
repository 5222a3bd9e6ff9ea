package vm

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/bpfarena/bpfarena/object"
	"github.com/cilium/ebpf/btf"
)

// hostKconfig is the running kernel's build configuration (CONFIG_* lines
// of /proc/config.gz) and version, read once. Elsewhere than Linux it is
// empty, and __kconfig externs keep the object's zeros.
var hostKconfig = sync.OnceValues(func() (map[string]string, uint32) {
	cfg := map[string]string{}
	if runtime.GOOS != "linux" {
		return cfg, 0
	}
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		if z, err := gzip.NewReader(f); err == nil {
			readKconfig(z, cfg)
		}
	}
	var ver uint32
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		var v [3]uint64
		for i, part := range strings.SplitN(strings.TrimSpace(string(b)), ".", 3) {
			n := strings.IndexFunc(part, func(r rune) bool { return r < '0' || r > '9' })
			if n >= 0 {
				part = part[:n]
			}
			v[i], _ = strconv.ParseUint(part, 10, 32)
		}
		// KERNEL_VERSION(a, b, c), c saturating at 255.
		ver = uint32(v[0]<<16 | v[1]<<8 | min(v[2], 255))
	}
	return cfg, ver
})

func readKconfig(r io.Reader, cfg map[string]string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "CONFIG_") {
			cfg[k] = v
		}
	}
}

// fillKconfig gives the .kconfig map the values libbpf would: the host's
// configuration and kernel version, so that programs reading them behave as
// they do on the kernel engine here. Externs the host does not define keep
// their value.
func fillKconfig(spec *object.Spec, data []byte) error {
	cfg, ver := hostKconfig()
	for _, e := range spec.Externs {
		if e.Kind != object.ExternKconfig {
			continue
		}
		var val string
		switch e.Name {
		case "LINUX_KERNEL_VERSION":
			if ver == 0 {
				continue
			}
			val = strconv.FormatUint(uint64(ver), 10)
		case "LINUX_HAS_BPF_COOKIE", "LINUX_HAS_SYSCALL_WRAPPER":
			val = "y"
		default:
			v, ok := cfg[e.Name]
			if !ok {
				continue
			}
			val = v
		}
		if err := putKconfig(data, e, val); err != nil {
			return fmt.Errorf("kconfig extern %s: %w", e.Name, err)
		}
	}
	return nil
}

// putKconfig encodes val by the extern's type: y/n/m into bool, char and
// enum libbpf_tristate (n 0, y 1, m 2), numbers into integers, quoted
// strings into char arrays.
func putKconfig(data []byte, e *object.ExternSpec, val string) error {
	if e.Type == nil {
		return nil
	}
	size, err := btf.Sizeof(e.Type)
	if err != nil {
		return err
	}
	if int(e.Offset)+size > len(data) || size <= 0 {
		return fmt.Errorf("%d bytes at %d do not fit in .kconfig", size, e.Offset)
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
	var n uint64
	switch val {
	case "y", "n", "m":
		n = map[string]uint64{"n": 0, "y": 1, "m": 2}[val]
		if i, ok := typ.(*btf.Int); ok && i.Encoding&btf.Char != 0 {
			n = uint64(val[0])
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
	copy(dst, b[:])
	return nil
}
