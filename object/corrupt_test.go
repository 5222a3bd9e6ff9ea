package object

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

// objectBytes compiles a test program and returns the object's bytes.
func objectBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(compile(t, name, testSources[name]))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sectionHeader returns the header of the named section of an object.
func sectionHeader(t *testing.T, obj []byte, name string) *elf.Section {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section(name)
	if s == nil {
		t.Fatalf("no section %s", name)
	}
	return s
}

func TestCorruptObjects(t *testing.T) {
	good := objectBytes(t, "full")
	le := binary.LittleEndian
	rel := sectionHeader(t, good, ".relsyscall")
	btfSec := sectionHeader(t, good, ".BTF")
	tests := []struct {
		name    string
		mutate  func(b []byte) []byte
		section string // the section the error must name ("" for none)
		is      error  // an error the result must wrap
		msg     string // a text the message must contain
	}{
		{"empty", func(b []byte) []byte { return nil }, "", nil, "reading ELF"},
		{"not ELF", func(b []byte) []byte { return []byte("this is not an ELF object at all, really") }, "", nil, "reading ELF"},
		{"truncated header", func(b []byte) []byte { return b[:40] }, "", nil, "reading ELF"},
		{"truncated sections", func(b []byte) []byte { return b[:len(b)/2] }, "", nil, ""},
		{"wrong machine", func(b []byte) []byte { le.PutUint16(b[18:], uint16(elf.EM_X86_64)); return b }, "", ErrNotBPF, "EM_X86_64"},
		{"big-endian", func(b []byte) []byte { b[elf.EI_DATA] = byte(elf.ELFDATA2MSB); return b }, "", ErrNotBPF, "little-endian"},
		{"32-bit", func(b []byte) []byte { b[elf.EI_CLASS] = byte(elf.ELFCLASS32); return b }, "", ErrNotBPF, "ELFCLASS32"},
		{"bad relocation type", func(b []byte) []byte {
			le.PutUint32(b[rel.Offset+8:], 99)
			return b
		}, "syscall", nil, "unsupported relocation type 99"},
		{"bad relocation symbol", func(b []byte) []byte {
			le.PutUint32(b[rel.Offset+12:], 99999)
			return b
		}, "syscall", nil, "symbol 99999"},
		{"relocation outside section", func(b []byte) []byte {
			le.PutUint64(b[rel.Offset:], 1<<20)
			return b
		}, ".relsyscall", nil, "outside"},
		{"relocation inside instruction", func(b []byte) []byte {
			le.PutUint64(b[rel.Offset:], le.Uint64(b[rel.Offset:])+8)
			return b
		}, ".relsyscall", nil, "inside an instruction"},
		{"garbage BTF", func(b []byte) []byte {
			for i := btfSec.Offset; i < btfSec.Offset+btfSec.Size; i++ {
				b[i] = 0xff
			}
			return b
		}, ".BTF", nil, "BTF"},
		{"BTF type section out of bounds", func(b []byte) []byte {
			le.PutUint32(b[btfSec.Offset+12:], 1<<30)
			return b
		}, ".BTF", nil, "out of bounds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.mutate(bytes.Clone(good))
			spec, err := LoadReader(bytes.NewReader(b), "corrupt.o")
			if err == nil {
				t.Fatalf("no error (%d programs)", len(spec.Programs))
			}
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if oe.File != "corrupt.o" || oe.Section != tt.section {
				t.Errorf("error %q names file %q section %q, want section %q", err, oe.File, oe.Section, tt.section)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/x.bpf.o")
	var oe *Error
	if !errors.As(err, &oe) || !errors.Is(err, os.ErrNotExist) || oe.File != "/nonexistent/x.bpf.o" {
		t.Errorf("error %v", err)
	}
}

// FuzzLoad feeds arbitrary bytes to the reader: it must return a Spec or
// an *Error, never panic or hang.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"small", "static", "full"} {
		f.Add(objectBytes(f, name))
	}
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		spec, err := LoadReader(bytes.NewReader(b), "fuzz.o")
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			return
		}
		for _, p := range spec.Programs {
			for i := range p.Relocations {
				if i < 0 || i >= len(p.Instructions) {
					t.Fatalf("%s: relocation at %d of %d", p.Name, i, len(p.Instructions))
				}
			}
			for _, l := range p.Lines {
				if l.Index < 0 || l.Index >= len(p.Instructions) {
					t.Fatalf("%s: line at %d of %d", p.Name, l.Index, len(p.Instructions))
				}
			}
			p.LineAt(len(p.Instructions))
		}
		for _, v := range spec.Variables {
			if v.Map != nil && int(v.Offset)+int(v.Size) > len(v.Map.Contents) {
				t.Fatalf("variable %s outside its map", v.Name)
			}
		}
	})
}

// TestInvalidInstructionsKept checks that instructions are not validated:
// refusing them is the verifier's job, with its own message.
func TestInvalidInstructionsKept(t *testing.T) {
	b := objectBytes(t, "small")
	code := sectionHeader(t, b, "tc")
	b[code.Offset+code.Size-8] = 0xff // exit becomes an opcode no instruction has
	spec, err := LoadReader(bytes.NewReader(b), "invalid.o")
	if err != nil {
		t.Fatal(err)
	}
	insns := spec.Program("tcprog").Instructions
	if op := insns[len(insns)-1].OpCode; op != 0xff {
		t.Errorf("last instruction has opcode %#x, want 0xff", op)
	}
}
