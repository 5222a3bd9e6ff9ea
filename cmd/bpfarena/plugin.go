package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/internal/vm"
	"github.com/bpfarena/bpfarena/internal/vm/verifier"
	"github.com/bpfarena/bpfarena/object"
)

// pluginBudget bounds one conformance-plugin run: the suite's programs are
// short, so a program still running after this many instructions loops.
const pluginBudget = 1 << 24

// cmdPlugin is the plugin protocol of the bpf_conformance test suite: the
// program comes as one line of hex on stdin (raw little-endian
// instructions, or with --elf a BPF ELF object whose first program runs),
// the memory r1 points at as hex in the first argument; r0 is printed in
// lowercase hex without a prefix. Helper 5 returns its first argument, as
// the suite expects of a plugin.
//
// The suite checks the instruction set, not the verifier, so by default
// the program runs as given. With --verify it is first checked as the
// kernel would check it, as a syscall program whose context is the
// memory, and a program the verifier rejects fails with its message: the
// score is then the one the kernel's verifier allows, to compare with the
// kernel's test by test.
func cmdPlugin(args []string, stdin io.Reader, stdout io.Writer) (err error) {
	// The suite feeds arbitrary bytes; whatever goes wrong must end as
	// an error on stderr, never as a crash it would count differently.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	fs := flag.NewFlagSet("conformance-plugin", flag.ContinueOnError)
	elf := fs.Bool("elf", false, "stdin holds a BPF ELF object instead of raw instructions")
	verify := fs.Bool("verify", false, "verify the program first, as the kernel would a syscall program whose context is the memory")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return fmt.Errorf("%w: at most one memory argument", errUsage)
	}
	var mem []byte
	if len(pos) == 1 {
		if mem, err = decodeHex(pos[0]); err != nil {
			return fmt.Errorf("memory: %w", err)
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the program: %w", err)
	}
	code, err := decodeHex(line)
	if err != nil {
		return fmt.Errorf("program: %w", err)
	}
	var insns asm.Instructions
	if *elf {
		if insns, err = elfProgram(code); err != nil {
			return err
		}
	} else if insns, err = asm.Decode(code); err != nil {
		return fmt.Errorf("program: %w", err)
	}
	if *verify {
		spec := &object.ProgramSpec{Name: "conformance", Section: "syscall", Type: object.Syscall,
			Sleepable: true, License: "GPL", Instructions: insns}
		if _, err := verifier.Verify(spec, verifier.Env{}); err != nil {
			return err
		}
	}
	r0, err := vm.RunRaw(insns, mem, vm.RawOptions{
		Helpers:    map[int32]vm.RawHelper{5: func(r1, _, _, _, _ uint64) (uint64, error) { return r1, nil }},
		InsnBudget: pluginBudget,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%x\n", r0)
	return err
}

// decodeHex decodes hex that may be spread over words and lines.
func decodeHex(s string) ([]byte, error) {
	return hex.DecodeString(strings.Join(strings.Fields(s), ""))
}

// elfProgram is the program of a BPF ELF object: its first entry program,
// or, for objects whose code sits in .text alone (as the conformance
// suite's are), the instructions of the first executable section.
func elfProgram(b []byte) (asm.Instructions, error) {
	spec, err := object.LoadReader(bytes.NewReader(b), "stdin")
	if err != nil {
		return nil, err
	}
	if len(spec.Programs) > 0 {
		return spec.Programs[0].Instructions, nil
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading ELF: %w", err)
	}
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_PROGBITS || sec.Flags&elf.SHF_EXECINSTR == 0 || sec.Size == 0 {
			continue
		}
		code, err := sec.Data()
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", sec.Name, err)
		}
		insns, err := asm.Decode(code)
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", sec.Name, err)
		}
		return insns, nil
	}
	return nil, errors.New("the object has no program and no code section")
}
