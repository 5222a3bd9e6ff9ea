package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bpfarena/bpfarena"
	"github.com/cilium/ebpf/btf"
)

type runProgram struct {
	Name     string      `json:"name"`
	Retval   uint32      `json:"retval"`
	Runs     uint32      `json:"runs"`
	NsPerRun int64       `json:"ns_per_run"`
	Output   string      `json:"output,omitempty"`
	Profile  *runProfile `json:"profile,omitempty"`
}

// runProfile is a program's profile as run prints it.
type runProfile struct {
	Insns      uint64            `json:"insns"`
	Calls      uint64            `json:"calls"`
	DurationNs int64             `json:"duration_ns"`
	Funcs      []runProfileEntry `json:"funcs"`
	Lines      []runProfileEntry `json:"lines"`
}

type runProfileEntry struct {
	Func   string  `json:"func"`
	Line   string  `json:"line,omitempty"` // file.c:31
	Source string  `json:"source,omitempty"`
	Insns  uint64  `json:"insns"`
	Calls  uint64  `json:"calls,omitempty"`
	TimeNs int64   `json:"time_ns"`
	Share  float64 `json:"time_share"`
}

func newRunProfile(p *bpfarena.Profile) *runProfile {
	share := func(d time.Duration) float64 {
		if p.Duration <= 0 {
			return 0
		}
		return float64(d) / float64(p.Duration)
	}
	rp := &runProfile{Insns: p.Insns, Calls: p.Calls, DurationNs: p.Duration.Nanoseconds(),
		Funcs: []runProfileEntry{}, Lines: []runProfileEntry{}}
	for _, f := range p.Funcs {
		rp.Funcs = append(rp.Funcs, runProfileEntry{Func: f.Name, Insns: f.Insns, Calls: f.Calls,
			TimeNs: f.Time.Nanoseconds(), Share: share(f.Time)})
	}
	for _, l := range p.Lines {
		e := runProfileEntry{Func: l.Func, Source: strings.TrimSpace(l.Source), Insns: l.Insns, Calls: l.Calls,
			TimeNs: l.Time.Nanoseconds(), Share: share(l.Time)}
		if l.File != "" {
			e.Line = fmt.Sprintf("%s:%d", filepath.Base(l.File), l.Line)
		}
		rp.Lines = append(rp.Lines, e)
	}
	return rp
}

// profileFlag is --profile (print a profile) or --profile=FILE (also write
// a pprof profile to FILE).
type profileFlag struct {
	on   bool
	file string
}

func (f *profileFlag) String() string {
	if f.file != "" {
		return f.file
	}
	return strconv.FormatBool(f.on)
}

func (f *profileFlag) Set(v string) error {
	if b, err := strconv.ParseBool(v); err == nil {
		f.on, f.file = b, ""
		return nil
	}
	if v == "" {
		return errors.New("want a file name")
	}
	f.on, f.file = true, v
	return nil
}

func (f *profileFlag) IsBoolFlag() bool { return true }

// profileLines is how many of the hottest lines run prints.
const profileLines = 12

type runArena struct {
	UserVMStart  uint64 `json:"user_vm_start"`
	Pages        uint32 `json:"pages"`
	PresentPages int    `json:"present_pages"`
}

type runFault struct {
	Program string `json:"program"`
	Kind    string `json:"kind"`
	Address uint64 `json:"address"`
	Insn    int    `json:"insn"`
	Line    string `json:"line,omitempty"`
}

type runOutput struct {
	Engine   string          `json:"engine"`
	File     string          `json:"file"`
	LoadNs   int64           `json:"load_ns"`
	Programs []runProgram    `json:"programs"`
	Globals  bpfarena.Object `json:"globals"`
	Arena    *runArena       `json:"arena,omitempty"`
	Faults   []runFault      `json:"faults"`
	// types are the globals' BTF types, for the text output.
	types map[string]btf.Type
}

func cmdRun(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	engineName := fs.String("engine", "vm", "engine: vm or kernel")
	repeat := fs.Uint("repeat", 1, "run each program `N` times and report the mean time")
	asJSON := fs.Bool("json", false, "print JSON")
	kernelName := kernelFlag(fs)
	ctxHex := fs.String("ctx", "", "context bytes in `hex` for every program")
	dataHex := fs.String("data", "", "packet bytes in `hex` (tc, xdp, socket programs)")
	pin := fs.String("pin", "", "keep the arena and maps in `DIR` and reuse them from an earlier run")
	var prof profileFlag
	fs.Var(&prof, "profile", "count instructions and time per source line and function (vm engine); --profile=`FILE` also writes a pprof profile")
	var sets multiFlag
	fs.Var(&sets, "set", "set global `NAME=VALUE` before the first program runs (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return fmt.Errorf("%w: want an object file and at least one program", errUsage)
	}
	eng, err := bpfarena.ParseEngine(*engineName)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if handled, err := inKernelVM("run", args, *kernelName, eng == bpfarena.Kernel, pos[:1], stdout); handled {
		return err
	}
	if *repeat == 0 || *repeat > 1<<31 {
		return fmt.Errorf("%w: --repeat must be between 1 and 2^31", errUsage)
	}
	ctx, err := hex.DecodeString(*ctxHex)
	if err != nil {
		return fmt.Errorf("%w: --ctx: %v", errUsage, err)
	}
	data, err := hex.DecodeString(*dataHex)
	if err != nil {
		return fmt.Errorf("%w: --data: %v", errUsage, err)
	}
	spec, err := bpfarena.LoadSpec(pos[0])
	if err != nil {
		return err
	}
	type setting struct {
		s, name string
		b       []byte
	}
	var settings []setting
	for _, s := range sets {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("%w: --set %q: want NAME=VALUE", errUsage, s)
		}
		vs := spec.Variable(name)
		if vs == nil {
			return fmt.Errorf("--set %s: no global named %q in %s", s, name, spec.Path)
		}
		b, err := bpfarena.ParseValue(vs, value)
		if err != nil {
			return fmt.Errorf("--set %s: %w", s, err)
		}
		if *pin != "" {
			// Pinned globals keep their values across loads: write
			// them once loaded instead of changing the initial image.
			settings = append(settings, setting{s, name, b})
			continue
		}
		if err := spec.SetVariable(name, b); err != nil {
			return fmt.Errorf("--set %s: %w", s, err)
		}
	}
	progs := pos[1:]
	for _, p := range progs {
		if spec.Program(p) == nil {
			var names []string
			for _, ps := range spec.Programs {
				names = append(names, ps.Name)
			}
			return fmt.Errorf("no program %q in %s (it has: %s)", p, spec.Path, strings.Join(names, ", "))
		}
	}
	if prof.on && eng != bpfarena.VM {
		return fmt.Errorf("%w: --profile needs the vm engine", errUsage)
	}
	start := time.Now()
	coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng, Programs: uniq(progs), PinPath: *pin, Kernel: *kernelName})
	if err != nil {
		return err
	}
	defer coll.Close()
	for _, st := range settings {
		v, err := coll.Variable(st.name)
		if err == nil {
			err = v.Write(st.b)
		}
		if err != nil {
			return fmt.Errorf("--set %s: %w", st.s, err)
		}
	}
	out := runOutput{Engine: eng.String(), File: spec.Path, LoadNs: time.Since(start).Nanoseconds(),
		Programs: []runProgram{}, Faults: []runFault{}}
	var profiles []*bpfarena.Profile
	for _, name := range progs {
		res, err := coll.Program(name).Test(bpfarena.RunOptions{Context: ctx, Data: data, Repeat: uint32(*repeat), Profile: prof.on})
		if err != nil {
			return err
		}
		rp := runProgram{Name: name, Retval: res.Retval, Runs: uint32(*repeat),
			NsPerRun: res.Duration.Nanoseconds(), Output: res.Output}
		if res.Profile != nil {
			profiles = append(profiles, res.Profile)
			rp.Profile = newRunProfile(res.Profile)
		}
		out.Programs = append(out.Programs, rp)
		for _, f := range res.Faults {
			out.Faults = append(out.Faults, runFault{Program: f.Program, Kind: string(f.Kind), Address: f.Address, Insn: f.Insn, Line: f.Line})
		}
	}
	out.Globals = bpfarena.Object{}
	out.types = map[string]btf.Type{}
	for _, v := range coll.Variables() {
		out.types[v.Spec.Name] = v.Spec.Type
		val, err := v.Value()
		if err != nil {
			return fmt.Errorf("global %s: %w", v.Spec.Name, err)
		}
		out.Globals = append(out.Globals, bpfarena.Field{Name: v.Spec.Name, Value: val})
	}
	if a := coll.Arena(); a != nil {
		out.Arena = &runArena{UserVMStart: a.Start(), Pages: a.Pages(), PresentPages: a.PresentPages()}
	}
	if prof.file != "" {
		if err := writeProfiles(prof.file, profiles); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printRun(stdout, out)
	return nil
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func printRun(w io.Writer, out runOutput) {
	fmt.Fprintf(w, "engine %s, loaded %s in %s\n", out.Engine, out.File, time.Duration(out.LoadNs).Round(time.Microsecond))
	for _, p := range out.Programs {
		fmt.Fprintf(w, "%-20s retval %-22s %d run(s), %s/run\n", p.Name, retvalText(p.Retval), p.Runs, time.Duration(p.NsPerRun))
		if p.Output != "" {
			for _, line := range strings.Split(strings.TrimRight(p.Output, "\n"), "\n") {
				fmt.Fprintf(w, "  | %s\n", line)
			}
		}
	}
	for _, p := range out.Programs {
		if p.Profile != nil {
			printProfile(w, p.Name, p.Profile)
		}
	}
	if len(out.Globals) > 0 {
		fmt.Fprintln(w, "globals:")
		for _, g := range out.Globals {
			fmt.Fprintf(w, "  %s = %s\n", g.Name, valueText(out.types[g.Name], g.Value, 0))
		}
	}
	if out.Arena != nil {
		fmt.Fprintf(w, "arena: user_vm_start %#x, %d pages, %d present\n", out.Arena.UserVMStart, out.Arena.Pages, out.Arena.PresentPages)
	}
	for _, f := range out.Faults {
		line := ""
		if f.Line != "" {
			line = " (" + f.Line + ")"
		}
		fmt.Fprintf(w, "fault: %s %s at %#x, insn %d%s\n", f.Program, f.Kind, f.Address, f.Insn, line)
	}
}

// retvalText shows a return value as C code reads it: negative when the
// sign bit is set (-1, not only 4294967295), with the hex beside it.
func retvalText(r uint32) string {
	if int32(r) < 0 {
		return fmt.Sprintf("%d (%#x = %d)", int32(r), r, r)
	}
	return fmt.Sprintf("%d (%#x)", r, r)
}

// valueText writes a decoded global for people: pointers in hex, the rest
// as JSON does.
func valueText(t btf.Type, v any, depth int) string {
	if depth > 16 {
		b, _ := json.Marshal(v)
		return string(b)
	}
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Pointer:
		if p, ok := v.(uint64); ok {
			return fmt.Sprintf("%#x", p)
		}
	case *btf.Array:
		if xs, ok := v.([]any); ok {
			parts := make([]string, len(xs))
			for i, x := range xs {
				parts[i] = valueText(u.Type, x, depth+1)
			}
			return "[" + strings.Join(parts, ",") + "]"
		}
	case *btf.Struct, *btf.Union:
		var ms []btf.Member
		if st, ok := u.(*btf.Struct); ok {
			ms = st.Members
		} else {
			ms = u.(*btf.Union).Members
		}
		if obj, ok := v.(bpfarena.Object); ok && len(obj) == len(ms) {
			parts := make([]string, len(obj))
			for i, f := range obj {
				name, _ := json.Marshal(f.Name)
				parts[i] = string(name) + ":" + valueText(ms[i].Type, f.Value, depth+1)
			}
			return "{" + strings.Join(parts, ",") + "}"
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func cmdUnpin(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("unpin", flag.ContinueOnError)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want one pin directory", errUsage)
	}
	return bpfarena.Unpin(pos[0])
}

func printProfile(w io.Writer, name string, p *runProfile) {
	fmt.Fprintf(w, "profile of %s: %d instructions, %d calls, %s\n", name, p.Insns, p.Calls, time.Duration(p.DurationNs))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  time\tinsns\tcalls\t  function\t")
	for _, f := range p.Funcs {
		fmt.Fprintf(tw, "  %.1f%%\t%d\t%d\t  %s\t\n", 100*f.Share, f.Insns, f.Calls, f.Func)
	}
	tw.Flush()
	n := min(len(p.Lines), profileLines)
	fmt.Fprintf(w, "hottest lines (%d of %d):\n", n, len(p.Lines))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  time\tinsns\tcalls\tline\tsource")
	for _, l := range p.Lines[:n] {
		line := l.Line
		if line == "" {
			line = "(no line info) " + l.Func
		}
		fmt.Fprintf(tw, "  %5.1f%%\t%d\t%d\t%s\t%s\n", 100*l.Share, l.Insns, l.Calls, line, l.Source)
	}
	tw.Flush()
}

func writeProfiles(path string, ps []*bpfarena.Profile) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--profile: %w", err)
	}
	if err := bpfarena.WriteProfile(f, ps...); err != nil {
		f.Close()
		return fmt.Errorf("--profile %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--profile %s: %w", path, err)
	}
	return nil
}
