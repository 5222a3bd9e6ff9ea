package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/bpf"
)

type benchRow struct {
	Program  string            `json:"program"`
	Runs     uint32            `json:"runs"`
	Retval   map[string]uint32 `json:"retval"`
	NsPerRun map[string]int64  `json:"ns_per_run"`
	Ratio    float64           `json:"vm_over_kernel,omitempty"`
}

type benchOutput struct {
	File      string            `json:"file"`
	LoadNs    map[string]int64  `json:"load_ns"`
	LoadRatio float64           `json:"load_vm_over_kernel,omitempty"`
	HeapBytes map[string]uint64 `json:"heap_bytes_after_load"`
	Rows      []benchRow        `json:"programs"`
	Skipped   map[string]string `json:"skipped,omitempty"`
}

func cmdBench(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	engineName := fs.String("engine", "both", "engine: vm, kernel or both")
	count := fs.Uint("count", 20, "runs of each program per engine")
	loads := fs.Uint("loads", 5, "loads per engine to time the load")
	asJSON := fs.Bool("json", false, "print JSON")
	kernelName := kernelFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	engines, err := engineList(*engineName)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if handled, err := inKernelVM("bench", args, *kernelName, slices.Contains(engines, bpfarena.Kernel), pos, stdout); handled {
		return err
	}
	var spec *bpfarena.Spec
	switch len(pos) {
	case 0:
		b, err := bpf.Read("examples/bench.bpf.o")
		if err != nil {
			return err
		}
		spec, err = bpfarena.LoadSpecFromReader(bytes.NewReader(b), "bench.bpf.o (built in)")
		if err != nil {
			return err
		}
	case 1:
		spec, err = bpfarena.LoadSpec(pos[0])
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: at most one object file", errUsage)
	}
	if *count == 0 || *loads == 0 {
		return fmt.Errorf("%w: --count and --loads must be positive", errUsage)
	}
	out := benchOutput{File: spec.Path, LoadNs: map[string]int64{}, HeapBytes: map[string]uint64{}, Skipped: map[string]string{}}
	rows := map[string]*benchRow{}
	for _, p := range spec.Programs {
		r := &benchRow{Program: p.Name, Runs: uint32(*count), Retval: map[string]uint32{}, NsPerRun: map[string]int64{}}
		rows[p.Name] = r
		out.Rows = append(out.Rows, *r)
	}
	for _, eng := range engines {
		name := eng.String()
		var total time.Duration
		var coll *bpfarena.Collection
		for i := uint(0); i < *loads; i++ {
			if coll != nil {
				coll.Close()
			}
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			coll, err = bpfarena.Load(spec, bpfarena.Options{Engine: eng, Kernel: *kernelName})
			total += time.Since(start)
			if err != nil {
				break
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			out.HeapBytes[name] = after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)
		}
		if err != nil {
			if errors.Is(err, bpfarena.ErrNotSupported) {
				out.Skipped[name] = err.Error()
				continue
			}
			return err
		}
		out.LoadNs[name] = (total / time.Duration(*loads)).Nanoseconds()
		for _, p := range coll.Programs() {
			res, err := p.Test(bpfarena.RunOptions{Repeat: uint32(*count), Data: make([]byte, 64)})
			if err != nil {
				coll.Close()
				return err
			}
			rows[p.Name()].Retval[name] = res.Retval
			rows[p.Name()].NsPerRun[name] = res.Duration.Nanoseconds()
		}
		coll.Close()
	}
	if v, k := out.LoadNs["vm"], out.LoadNs["kernel"]; v > 0 && k > 0 {
		out.LoadRatio = float64(v) / float64(k)
	}
	for i := range out.Rows {
		r := rows[out.Rows[i].Program]
		if v, k := r.NsPerRun["vm"], r.NsPerRun["kernel"]; v > 0 && k > 0 {
			r.Ratio = float64(v) / float64(k)
		}
		out.Rows[i] = *r
	}
	if len(out.LoadNs) == 0 {
		// Nothing was measured: a table of dashes would read as a result.
		var why []string
		for _, eng := range engines {
			why = append(why, fmt.Sprintf("%s: %s", eng, out.Skipped[eng.String()]))
		}
		return fmt.Errorf("no engine ran (%s): %w", strings.Join(why, "; "), errNothingRan)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "%s: %d runs per program\n", out.File, *count)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "program\tvm ns/run\tkernel ns/run\tvm/kernel\t\n")
	fmt.Fprintf(tw, "(load)\t%s\t%s\t%s\t\n", ns(out.LoadNs["vm"]), ns(out.LoadNs["kernel"]), ratio(out.LoadRatio))
	for _, r := range out.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.Program, ns(r.NsPerRun["vm"]), ns(r.NsPerRun["kernel"]), ratio(r.Ratio))
	}
	tw.Flush()
	for _, eng := range engines {
		if why, ok := out.Skipped[eng.String()]; ok {
			fmt.Fprintf(stdout, "%s engine not run: %s\n", eng, why)
		}
	}
	return nil
}

// errNothingRan: a command measured or tested nothing.
var errNothingRan = errors.New("nothing ran")

func ns(v int64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprint(v)
}

func ratio(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}
