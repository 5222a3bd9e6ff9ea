// Command bpfarena loads BPF objects that use an arena, inspects them and
// runs their programs on the embedded vm or on the running kernel.
//
//	bpfarena inspect [--json] OBJ
//	bpfarena disasm OBJ [PROG]
//	bpfarena probe [--json]
//	bpfarena run [--engine vm|kernel] [--repeat N] [--set NAME=VALUE]... [--ctx HEX] [--data HEX] [--json] OBJ PROG...
//	bpfarena test [--engine vm|kernel|both] OBJ...
//	bpfarena bench [--engine vm|kernel|both] [--json] [OBJ]
//	bpfarena gen --package P --ident NAME [--out DIR] [--type T]... OBJ|BPF.c
//	bpfarena conformance-plugin [--elf] [--verify] [HEXMEM]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/internal/matrix"
)

type command struct {
	name  string
	usage string
	run   func(args []string, stdout io.Writer) error
	// runIn, if set, is used instead of run by commands that read stdin.
	runIn func(args []string, stdin io.Reader, stdout io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"inspect", "inspect [--json] OBJ", cmdInspect, nil},
		{"disasm", "disasm OBJ [PROG]", cmdDisasm, nil},
		{"probe", "probe [--json]", cmdProbe, nil},
		{"run", "run [--engine vm|kernel] [--kernel VERSION] [--pin DIR] [--repeat N] [--set NAME=VALUE]... [--ctx HEX] [--data HEX] [--json] OBJ PROG...", cmdRun, nil},
		{"unpin", "unpin DIR", cmdUnpin, nil},
		{"test", "test [--engine vm|kernel|both] [--kernel VERSION] [--json] [-v] OBJ...", cmdTest, nil},
		{"bench", "bench [--engine vm|kernel|both] [--kernel VERSION] [--count N] [--json] [OBJ]", cmdBench, nil},
		{"gen", "gen --package P --ident NAME [--out DIR] [--type T]... [--cc CLANG] [--cflags FLAGS] OBJ|FILE.bpf.c", cmdGen, nil},
		{name: "conformance-plugin", usage: "conformance-plugin [--elf] [--verify] [HEXMEM]", runIn: cmdPlugin},
	}
}

// errUsage makes main print the usage and exit 2.
var errUsage = errors.New("usage")

// errFailed makes main exit 1 without printing anything more.
var errFailed = errors.New("failed")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: bpfarena COMMAND [ARGS]")
	for _, c := range commands {
		fmt.Fprintln(w, "  bpfarena "+c.usage)
	}
}

func main() {
	if matrix.IsGuest() {
		// This binary is the init of a kernel matrix VM (inKernelVM).
		matrix.GuestMain()
	}
	os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func realMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	args = pluginArgs(args)
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		var err error
		if c.runIn != nil {
			err = c.runIn(args[1:], stdin, stdout)
		} else {
			err = c.run(args[1:], stdout)
		}
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errFailed):
			return 1
		case errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp):
			if msg := strings.TrimSpace(strings.TrimPrefix(err.Error(), "usage")); msg != "" && !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stderr, "bpfarena "+c.name+":", strings.TrimPrefix(msg, ": "))
			}
			fmt.Fprintln(stderr, "usage: bpfarena "+c.usage)
			return 2
		default:
			fmt.Fprintln(stderr, "bpfarena "+c.name+":", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "bpfarena: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// parseFlags parses flags that may come before or after positional
// arguments, and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// oneObject parses the flags of a command that takes exactly one object
// file, and reads it.
func oneObject(fs *flag.FlagSet, args []string) (*bpfarena.Spec, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, fmt.Errorf("%w: want one object file", errUsage)
	}
	return bpfarena.LoadSpec(pos[0])
}

// pluginArgs puts the command first for bpf_conformance, which runs
// `bpfarena HEXMEM conformance-plugin [--elf] [--verify]` when given
// --plugin_path bpfarena --plugin_options conformance-plugin: it passes
// the memory before the plugin's options.
func pluginArgs(args []string) []string {
	for i, a := range args {
		if a == "conformance-plugin" {
			if i == 0 {
				return args
			}
			for _, m := range args[:i] {
				if _, err := decodeHex(m); err != nil {
					return args
				}
			}
			out := append([]string{a}, args[i+1:]...)
			return append(out, args[:i]...)
		}
	}
	return args
}
