package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/bpfarena/bpfarena/object"
)

type inspectProgram struct {
	Name         string   `json:"name"`
	Section      string   `json:"section"`
	Type         string   `json:"type"`
	AttachType   string   `json:"attach_type,omitempty"`
	AttachTo     string   `json:"attach_to,omitempty"`
	Sleepable    bool     `json:"sleepable"`
	Instructions int      `json:"instructions"`
	Slots        int      `json:"slots"`
	Funcs        []string `json:"funcs,omitempty"`
	Tags         []string `json:"tags,omitempty"`
}

type inspectMap struct {
	Name       string `json:"name"`
	Section    string `json:"section"`
	Type       string `json:"type"`
	KeySize    uint32 `json:"key_size"`
	ValueSize  uint32 `json:"value_size"`
	MaxEntries uint32 `json:"max_entries"`
	Flags      uint32 `json:"flags"`
	FlagNames  string `json:"flag_names,omitempty"`
	MapExtra   uint64 `json:"map_extra"`
	// Arena geometry.
	ArenaBytes uint64 `json:"arena_bytes,omitempty"`
	Key        string `json:"key_type,omitempty"`
	Value      string `json:"value_type,omitempty"`
}

type inspectGlobal struct {
	Name    string `json:"name"`
	Section string `json:"section"`
	Offset  uint32 `json:"offset"`
	Size    uint32 `json:"size"`
	Type    string `json:"type"`
}

type inspectExtern struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Weak bool   `json:"weak"`
}

type inspectOutput struct {
	File     string           `json:"file"`
	License  string           `json:"license"`
	Programs []inspectProgram `json:"programs"`
	Maps     []inspectMap     `json:"maps"`
	Globals  []inspectGlobal  `json:"globals"`
	Externs  []inspectExtern  `json:"externs"`
}

func cmdInspect(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	spec, err := oneObject(fs, args)
	if err != nil {
		return err
	}
	out := describe(spec)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printInspect(stdout, out)
	return nil
}

func describe(spec *object.Spec) inspectOutput {
	out := inspectOutput{File: spec.Path, License: spec.License,
		Programs: []inspectProgram{}, Maps: []inspectMap{}, Globals: []inspectGlobal{}, Externs: []inspectExtern{}}
	for _, p := range spec.Programs {
		ip := inspectProgram{
			Name: p.Name, Section: p.Section, Type: p.Type.String(),
			AttachType: attachName(p.AttachType), AttachTo: p.AttachTo, Sleepable: p.Sleepable,
			Instructions: len(p.Instructions), Tags: p.Tags,
		}
		for _, ins := range p.Instructions {
			ip.Slots += ins.Size() / 8
		}
		for _, f := range p.Funcs[min(1, len(p.Funcs)):] {
			ip.Funcs = append(ip.Funcs, f.Name)
		}
		out.Programs = append(out.Programs, ip)
	}
	for _, m := range spec.Maps {
		im := inspectMap{
			Name: m.Name, Section: m.Section, Type: m.Type.String(), KeySize: m.KeySize,
			ValueSize: m.ValueSize, MaxEntries: m.MaxEntries, Flags: m.Flags, FlagNames: flagNames(m.Flags),
			MapExtra: m.MapExtra,
		}
		if m.IsArena() {
			im.ArenaBytes = uint64(m.MaxEntries) * object.PageSize
		}
		if m.Key != nil {
			im.Key = typeName(m.Key)
		}
		if m.Value != nil {
			im.Value = typeName(m.Value)
		}
		out.Maps = append(out.Maps, im)
	}
	for _, v := range spec.Variables {
		out.Globals = append(out.Globals, inspectGlobal{
			Name: v.Name, Section: v.Section, Offset: v.Offset, Size: v.Size, Type: typeName(v.Type),
		})
	}
	for _, e := range spec.Externs {
		out.Externs = append(out.Externs, inspectExtern{Name: e.Name, Kind: e.Kind.String(), Weak: e.Weak})
	}
	return out
}

func printInspect(w io.Writer, out inspectOutput) {
	fmt.Fprintf(w, "file: %s\nlicense: %s\n", out.File, out.License)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nPROGRAM\tSECTION\tTYPE\tATTACH\tSLEEPABLE\tINSNS\tSLOTS\tSUBPROGRAMS\n")
	for _, p := range out.Programs {
		attach := p.AttachType
		if p.AttachTo != "" {
			attach = strings.TrimPrefix(attach+" "+p.AttachTo, " ")
		}
		if attach == "" {
			attach = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%d\t%d\t%s\n", p.Name, p.Section, p.Type, attach, p.Sleepable, p.Instructions, p.Slots, dash(strings.Join(p.Funcs, ",")))
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nMAP\tTYPE\tKEY\tVALUE\tMAX_ENTRIES\tFLAGS\tMAP_EXTRA\n")
	for _, m := range out.Maps {
		extra := "-"
		if m.MapExtra != 0 {
			extra = fmt.Sprintf("%#x", m.MapExtra)
		}
		maxE := fmt.Sprint(m.MaxEntries)
		if m.ArenaBytes != 0 {
			maxE = fmt.Sprintf("%d pages (%s)", m.MaxEntries, humanBytes(m.ArenaBytes))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", m.Name, m.Type, m.KeySize, m.ValueSize, maxE, dash(m.FlagNames), extra)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nGLOBAL\tSECTION\tOFFSET\tSIZE\tTYPE\n")
	for _, g := range out.Globals {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", g.Name, g.Section, g.Offset, g.Size, g.Type)
	}
	tw.Flush()
	if len(out.Externs) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "\nEXTERN\tKIND\tWEAK\n")
		for _, e := range out.Externs {
			fmt.Fprintf(tw, "%s\t%s\t%v\n", e.Name, e.Kind, e.Weak)
		}
		tw.Flush()
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
