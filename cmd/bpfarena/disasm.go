package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

func cmdDisasm(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("disasm", flag.ContinueOnError)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return fmt.Errorf("%w: want an object file and optionally a program", errUsage)
	}
	spec, err := bpfarena.LoadSpec(pos[0])
	if err != nil {
		return err
	}
	progs := spec.Programs
	if len(pos) == 2 {
		p := spec.Program(pos[1])
		if p == nil {
			return fmt.Errorf("no program %q in %s", pos[1], spec.Path)
		}
		progs = []*object.ProgramSpec{p}
	}
	for i, p := range progs {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		disasmProgram(stdout, spec, p)
	}
	return nil
}

// disasmProgram prints a linked program in the verifier log's syntax with
// function labels, source lines from line info, and what relocated
// instructions refer to.
func disasmProgram(w io.Writer, spec *object.Spec, p *object.ProgramSpec) {
	fmt.Fprintf(w, "%s (section %s, %s):\n", p.Name, p.Section, p.Type.String())
	cur := -1
	f := asm.Formatter{
		OpCode: true,
		Kfunc: func(ins asm.Instruction) string {
			if r, ok := p.Relocations[cur]; ok && r.Extern != nil {
				return r.Extern.Name
			}
			return ""
		},
		Imm64: func(ins asm.Instruction) string {
			if r, ok := p.Relocations[cur]; ok {
				return relocText(spec, r)
			}
			return ""
		},
	}
	funcAt := map[int]string{}
	for _, fn := range p.Funcs {
		funcAt[fn.Index] = fn.Name
	}
	lines := p.Lines
	li := 0
	lastSrc := ""
	offsets := p.Instructions.Offsets()
	for i, ins := range p.Instructions {
		if name, ok := funcAt[i]; ok && i > 0 {
			fmt.Fprintf(w, "%s:\n", name)
		}
		for li < len(lines) && lines[li].Index < i {
			li++
		}
		for li < len(lines) && lines[li].Index == i {
			l := lines[li]
			src := strings.TrimSpace(l.Source)
			// Consecutive records often repeat a line; show it once.
			if key := fmt.Sprintf("%s:%d", l.File, l.Line); src != "" && key != lastSrc {
				fmt.Fprintf(w, "; %s // %s\n", src, key)
				lastSrc = key
			}
			li++
		}
		cur = i
		text := f.Format(ins)
		if ins.IsCall() && ins.Src == asm.PseudoCall {
			if t, ok := p.Instructions.Target(offsets, i); ok {
				if name, ok := funcAt[t]; ok {
					text += " ; " + name
				}
			}
		}
		fmt.Fprintf(w, "%5d: %s\n", offsets[i], text)
	}
}

// relocText names what a relocated ld_imm64 loads.
func relocText(spec *object.Spec, r object.Relocation) string {
	switch r.Kind {
	case object.RelocMap:
		return fmt.Sprintf("map[%s]", r.Map.Name)
	case object.RelocMapValue:
		name := ""
		for _, v := range spec.Variables {
			if v.Map == r.Map && r.Offset >= v.Offset && r.Offset < v.Offset+max(v.Size, 1) {
				name = v.Name
				if r.Offset != v.Offset {
					name += fmt.Sprintf("+%d", r.Offset-v.Offset)
				}
				break
			}
		}
		if name == "" {
			name = fmt.Sprintf("%s+%d", r.Map.Name, r.Offset)
		}
		if r.Map.IsArena() {
			return fmt.Sprintf("arena[%s]", name)
		}
		return fmt.Sprintf("map_value[%s] %s", r.Map.Name, name)
	case object.RelocKsym:
		return "ksym[" + r.Extern.Name + "]"
	case object.RelocKconfig:
		return "kconfig[" + r.Extern.Name + "]"
	}
	return ""
}
