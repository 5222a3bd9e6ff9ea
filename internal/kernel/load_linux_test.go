//go:build linux

package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/bpfarena/bpfarena/internal/testenv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfarena/bpfarena/arena"
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/bpf"
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/sys"
	"github.com/bpfarena/bpfarena/object"
	"golang.org/x/sys/unix"
)

func TestVerifierError(t *testing.T) {
	requireKernel(t)
	tests := []struct {
		name  string
		arena bool
		insns asm.Instructions
		errno unix.Errno
		msg   string
	}{
		{
			name:  "scalar dereference",
			insns: asm.Instructions{mov(asm.R2, 0), {OpCode: ldxDW, Dst: asm.R0, Src: asm.R2}, exit},
			errno: unix.EACCES,
			msg:   "R2 invalid mem access 'scalar'",
		},
		{
			name: "cast without arena",
			insns: asm.Instructions{
				mov(asm.R1, 0),
				{OpCode: asm.OpMov64Reg, Dst: asm.R0, Src: asm.R1, Offset: asm.AddrSpaceCastOffset, Constant: asm.CastToArena},
				exit,
			},
			errno: unix.EINVAL,
			msg:   "addr_space_cast insn can only be used in a program that has an associated arena",
		},
		{
			name:  "cast with another imm",
			arena: true,
			insns: asm.Instructions{
				{OpCode: asm.OpLoadImm64, Dst: asm.R1},
				{OpCode: asm.OpMov64Reg, Dst: asm.R0, Src: asm.R1, Offset: asm.AddrSpaceCastOffset, Constant: 2},
				exit,
			},
			errno: unix.EINVAL,
			msg:   "addr_space_cast insn can only convert between address space 1 and 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, m := arenaSpec(4, 0, 0)
			ps := &object.ProgramSpec{Name: "bad", Section: "syscall", Type: object.Syscall, License: "GPL", Instructions: tt.insns}
			if tt.arena {
				ps.Relocations = map[int]object.Relocation{0: {Kind: object.RelocMap, Map: m}}
			}
			spec.Programs = []*object.ProgramSpec{ps}
			warmUp(t)
			fds, maps := countFDs(t), countMaps(t)
			c, err := Load(spec, engine.Options{})
			if err == nil {
				c.Close()
				t.Fatal("loaded")
			}
			var verr *VerifierError
			if !errors.As(err, &verr) {
				t.Fatalf("%v is not a *VerifierError", err)
			}
			if !errors.Is(err, tt.errno) {
				t.Errorf("errno %v, want %v", verr.Errno, tt.errno)
			}
			if verr.Program != "bad" || !strings.Contains(verr.Log, tt.msg) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, log %q: want %q", err, verr.Log, tt.msg)
			}
			if countFDs(t) != fds || countMaps(t) != maps {
				t.Error("failed load leaked fds or mappings")
			}
		})
	}
}

// TestNotRoot checks that without privileges Load says the engine is not
// supported. As root it reruns itself as nobody.
func TestNotRoot(t *testing.T) {
	if os.Getenv("BPFARENA_NOTROOT_CHILD") == "1" || os.Geteuid() != 0 {
		spec, _ := arenaSpec(1, 0, 0)
		c, err := Load(spec, engine.Options{})
		if err == nil {
			c.Close()
			t.Skip("this unprivileged process may use BPF (CAP_BPF or unprivileged BPF)")
		}
		if !errors.Is(err, engine.ErrNotSupported) || !strings.Contains(err.Error(), "root") {
			t.Fatalf("error %v does not say why the engine is unsupported", err)
		}
		return
	}
	// The test binary may sit in a directory only root can enter.
	dir, err := os.MkdirTemp("", "bpfarena-notroot")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	exe := filepath.Join(dir, "kernel.test")
	if err := copyFile(os.Args[0], exe); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestNotRoot$", "-test.v")
	cmd.Env = append(os.Environ(), "BPFARENA_NOTROOT_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unprivileged run: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestNotRoot")) && !bytes.Contains(out, []byte("--- SKIP: TestNotRoot")) {
		t.Fatalf("unprivileged run did not pass:\n%s", out)
	}
	t.Logf("%s", out)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// dataSpec is an object with an arena, .bss, .data and .rodata, and a
// program "copy" that copies .rodata[0:8] to .bss[0:8], stores 0x1234 in a
// fresh arena page, and returns .data[0:4].
func dataSpec() *object.Spec {
	spec, m := arenaSpec(8, 0, 0)
	spec.Path = "/tmp/verylongobjectname.bpf.o"
	bss := &object.MapSpec{Name: ".bss", Section: ".bss", Type: object.Array, Flags: object.FlagMmapable, KeySize: 4, ValueSize: 16, MaxEntries: 1, Contents: make([]byte, 16)}
	data := &object.MapSpec{Name: ".data", Section: ".data", Type: object.Array, Flags: object.FlagMmapable, KeySize: 4, ValueSize: 8, MaxEntries: 1, Contents: []byte{7, 0, 0, 0, 0, 0, 0, 0}}
	ro := &object.MapSpec{Name: ".rodata", Section: ".rodata", Type: object.Array, Flags: object.FlagMmapable, KeySize: 4, ValueSize: 8, MaxEntries: 1, ReadOnly: true,
		Contents: []byte{0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}}
	spec.Maps = append(spec.Maps, bss, data, ro)
	p := allocWriteProgram(m)
	p.Name = "copy"
	n := len(p.Instructions) - 2 // before "r0 = 0; exit"
	tail := asm.Instructions{
		{OpCode: asm.OpLoadImm64, Dst: asm.R1},
		{OpCode: ldxDW, Dst: asm.R2, Src: asm.R1},
		{OpCode: asm.OpLoadImm64, Dst: asm.R1},
		{OpCode: stxDW, Dst: asm.R1, Src: asm.R2},
		{OpCode: asm.OpLoadImm64, Dst: asm.R1},
		{OpCode: ldxDW, Dst: asm.R0, Src: asm.R1},
		exit,
	}
	// Jumps in the alloc part land on the old "r0 = 0", now the tail.
	p.Instructions = append(p.Instructions[:n:n], tail...)
	p.Relocations[n] = object.Relocation{Kind: object.RelocMapValue, Map: ro}
	p.Relocations[n+2] = object.Relocation{Kind: object.RelocMapValue, Map: bss}
	p.Relocations[n+4] = object.Relocation{Kind: object.RelocMapValue, Map: data}
	spec.Programs = []*object.ProgramSpec{p}
	return spec
}

func TestGlobalData(t *testing.T) {
	requireKernel(t)
	spec := dataSpec()
	c, err := Load(spec, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bss, _ := c.Data(spec.Maps[1])
	data, _ := c.Data(spec.Maps[2])
	ro, _ := c.Data(spec.Maps[3])
	if len(bss) != 16 || len(data) != 8 || !bytes.Equal(ro, spec.Maps[3].Contents) {
		t.Fatalf("data maps: bss %x data %x rodata %x", bss, data, ro)
	}
	binary.LittleEndian.PutUint32(data, 99) // seen by the program
	p, _ := c.Program("copy")
	res, err := p.Run(engine.RunOptions{Context: make([]byte, 8)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Retval != 99 {
		t.Errorf("retval %d, want the 99 Go wrote to .data", res.Retval)
	}
	if v := binary.LittleEndian.Uint64(bss); v != 0x1122334455667788 {
		t.Errorf(".bss holds %#x, want .rodata's value", v)
	}
	for _, tt := range []struct{ name, kernel string }{
		{".bss", "verylong.bss"},
		{".rodata", "verylong.rodata"},
		{"arena", "arena"},
	} {
		m, ok := c.Map(tt.name)
		if !ok {
			t.Errorf("map %s missing", tt.name)
			continue
		}
		if got := c.(*collection).mapByFD(m.FD()).name; got != tt.kernel {
			t.Errorf("map %s: kernel name %q, want %q", tt.name, got, tt.kernel)
		}
	}
	m, _ := c.Map(".bss")
	v, err := m.Lookup(make([]byte, 4))
	if err != nil || !bytes.Equal(v, bss) {
		t.Errorf("lookup %x, %v; want %x", v, err, bss)
	}
	m, _ = c.Map(".rodata")
	if err := m.Update(make([]byte, 4), make([]byte, 8), 0); !errors.Is(err, unix.EPERM) {
		t.Errorf("update of frozen .rodata: %v, want EPERM", err)
	}
}

func (c *collection) mapByFD(fd int) *kmap {
	for _, m := range c.mapList {
		if m.FD() == fd {
			return m
		}
	}
	return nil
}

// TestLeaks loads, runs and closes objects many times and checks that no
// file descriptor or mapping is left behind. It also reports the mean load
// time.
func TestLeaks(t *testing.T) {
	requireKernel(t)
	cycles := 1000
	if testing.Short() {
		cycles = 50
	} else if testenv.MatrixKernel() != "" {
		cycles = 100 // under qemu's emulation a cycle takes 50 times longer
	}
	htab := exampleSpec(t, "htab.bpf.o")
	tests := []struct {
		name   string
		spec   func() *object.Spec
		shared int // mappings while loaded: arena + data maps
		run    []string
		ctx    int
	}{
		{"handmade", dataSpec, 4, []string{"copy"}, 8},
		{"htab.bpf.o", func() *object.Spec { return htab }, 2, []string{"build", "lookup", "destroy"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cycle := func() time.Duration {
				shared := countMaps(t)
				start := time.Now()
				c, err := Load(tt.spec(), engine.Options{})
				took := time.Since(start)
				if err != nil {
					t.Fatal(err)
				}
				// The shared mapping count does see what is loaded.
				if n := countMaps(t); n != shared+tt.shared {
					t.Fatalf("%d shared mappings while loaded, want %d", n, shared+tt.shared)
				}
				for _, name := range tt.run {
					p, _ := c.Program(name)
					if _, err := p.Run(engine.RunOptions{Context: make([]byte, tt.ctx)}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := c.Arena().Alloc(1); err != nil {
					t.Fatal(err)
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				if err := c.Close(); err != nil {
					t.Fatalf("second Close: %v", err)
				}
				return took
			}
			// Warm up: the kernel BTF index and the Go heap settle first.
			for i := 0; i < 20; i++ {
				cycle()
			}
			runtime.GC()
			fds, maps := countFDs(t), countMaps(t)
			_, all := countMappings(t)
			var total time.Duration
			for i := 0; i < cycles; i++ {
				total += cycle()
			}
			runtime.GC()
			if n := countFDs(t); n != fds {
				t.Errorf("%d cycles: %d fds before, %d after", cycles, fds, n)
			}
			if n := countMaps(t); n != maps {
				t.Errorf("%d cycles: %d shared mappings before, %d after", cycles, maps, n)
			}
			shared, allAfter := countMappings(t)
			t.Logf("%d cycles: fds %d -> %d, shared mappings %d -> %d, all mappings %d -> %d (Go heap growth), mean load %v",
				cycles, fds, countFDs(t), maps, shared, all, allAfter, total/time.Duration(cycles))
		})
	}
}

// exampleSpec parses one of the example objects, skipping the test when it
// is missing or the reader refuses it.
func exampleSpec(t testing.TB, name string) *object.Spec {
	t.Helper()
	raw, err := bpf.Read("examples/" + name)
	if err != nil {
		t.Skipf("example %s: %v", name, err)
	}
	spec, err := object.LoadReader(bytes.NewReader(raw), name)
	if err != nil {
		t.Skipf("example %s: %v", name, err)
	}
	return spec
}

// BenchmarkLoad measures loading (and closing) the 3-program htab example
// once the kernel BTF index is built.
func BenchmarkLoad(b *testing.B) {
	requireKernel(b)
	spec := exampleSpec(b, "htab.bpf.o")
	for i := 0; i < b.N; i++ {
		c, err := Load(spec, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// warmUp loads and closes an object once, so that one-time work (the
// kernel BTF cache, Go heap growth) does not count as a leak.
func warmUp(t testing.TB) {
	t.Helper()
	c, err := Load(dataSpec(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestProgramsOption(t *testing.T) {
	requireKernel(t)
	tests := []struct {
		name    string
		progs   []string
		want    []string
		wantErr bool
	}{
		{"all", nil, []string{"copy"}, false},
		{"none", []string{}, nil, false},
		{"named", []string{"copy"}, []string{"copy"}, false},
		{"unknown", []string{"nope"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(dataSpec(), engine.Options{Programs: tt.progs})
			if tt.wantErr {
				if err == nil {
					c.Close()
					t.Fatal("loaded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, ok := c.Program("copy")
			if ok != (len(tt.want) > 0) {
				t.Errorf("program copy loaded: %v, want %v", ok, tt.want)
			}
		})
	}
}

// TestUseAfterClose checks that a closed collection's parts return errors
// instead of touching descriptors that may name other objects by now.
func TestUseAfterClose(t *testing.T) {
	requireKernel(t)
	spec := dataSpec()
	c, err := Load(spec, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Program("copy")
	m, _ := c.Map(".bss")
	a := c.Arena()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(engine.RunOptions{Context: make([]byte, 8)}); !errors.Is(err, sys.ErrClosed) {
		t.Errorf("run: %v", err)
	}
	if _, err := m.Lookup(make([]byte, 4)); !errors.Is(err, sys.ErrClosed) {
		t.Errorf("lookup: %v", err)
	}
	if _, err := a.Alloc(1); !errors.Is(err, arena.ErrClosed) {
		t.Errorf("alloc: %v", err)
	}
	if _, err := a.Bytes(a.Start(), 1); !errors.Is(err, arena.ErrClosed) {
		t.Errorf("bytes: %v", err)
	}
	if a.Present(a.Start()) || a.PresentPages() != 0 {
		t.Error("pages present after Close")
	}
	if _, ok := c.Data(spec.Maps[1]); ok {
		t.Error("data after Close")
	}
	if p.FD() != -1 || m.FD() != -1 {
		t.Errorf("fds %d %d after Close", p.FD(), m.FD())
	}
}
