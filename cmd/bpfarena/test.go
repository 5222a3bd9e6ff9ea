package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/internal/conformance"
)

func engineList(name string) ([]bpfarena.Engine, error) {
	if name == "both" {
		return []bpfarena.Engine{bpfarena.VM, bpfarena.Kernel}, nil
	}
	e, err := bpfarena.ParseEngine(name)
	if err != nil {
		return nil, err
	}
	return []bpfarena.Engine{e}, nil
}

type testLine struct {
	Status  string `json:"status"`
	File    string `json:"file"`
	Program string `json:"program"`
	Reason  string `json:"reason,omitempty"`
}

func cmdTest(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	engineName := fs.String("engine", "vm", "engine: vm, kernel or both")
	asJSON := fs.Bool("json", false, "print one JSON object per test")
	verbose := fs.Bool("v", false, "print what each engine did: load, log, run")
	kernelName := kernelFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: want at least one object file", errUsage)
	}
	engines, err := engineList(*engineName)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if handled, err := inKernelVM("test", args, *kernelName, slices.Contains(engines, bpfarena.Kernel), pos, stdout); handled {
		return err
	}
	var passed, failed, skipped int
	ran := map[bpfarena.Engine]bool{}
	whyNot := map[bpfarena.Engine]string{}
	enc := json.NewEncoder(stdout)
	for _, path := range pos {
		spec, err := bpfarena.LoadSpec(path)
		var results []conformance.Result
		if err == nil {
			results, err = conformance.RunSpecKernel(spec, engines, *kernelName)
		}
		if err != nil {
			failed++
			if *asJSON {
				enc.Encode(testLine{Status: "FAIL", File: path, Reason: err.Error()})
			} else {
				fmt.Fprintf(stdout, "FAIL %s: %v\n", path, err)
			}
			continue
		}
		if len(results) == 0 {
			failed++
			reason := "no test: no program carries a test annotation (BTF decl tags \"comment:test_...\" or \"comment:N:test_...\")"
			if *asJSON {
				enc.Encode(testLine{Status: "FAIL", File: path, Reason: reason})
			} else {
				fmt.Fprintf(stdout, "FAIL %s: %s\n", path, reason)
			}
			continue
		}
		for _, r := range results {
			var only []string
			for _, o := range r.Outcomes {
				if o.Skipped == "" {
					ran[o.Engine] = true
					only = append(only, o.Engine.String())
				} else if whyNot[o.Engine] == "" {
					whyNot[o.Engine] = o.Skipped
				}
			}
			switch r.Status {
			case conformance.Pass:
				passed++
			case conformance.Fail:
				failed++
			case conformance.Skip:
				skipped++
			}
			if *asJSON {
				enc.Encode(testLine{Status: string(r.Status), File: r.File, Program: r.Program, Reason: r.Reason})
			} else {
				line := r.String()
				if r.Status == conformance.Pass && len(only) < len(r.Outcomes) && len(only) > 0 {
					// Say that the test passed where it ran, not everywhere.
					line = "PASS (" + strings.Join(only, ",") + " only)" + strings.TrimPrefix(line, "PASS")
				}
				fmt.Fprintln(stdout, line)
				if *verbose {
					printOutcomes(stdout, r)
				}
			}
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Fprintln(stdout, summary)
	anyRan := false
	for _, e := range engines {
		if ran[e] {
			anyRan = true
		} else if why := whyNot[e]; why != "" {
			fmt.Fprintf(stdout, "the %s engine ran no test: %s\n", e, why)
		}
	}
	if failed > 0 {
		return errFailed
	}
	if !anyRan && passed+skipped > 0 {
		fmt.Fprintln(stdout, "FAIL: no engine ran any test")
		return errFailed
	}
	return nil
}

// printOutcomes prints, indented under a test's line, what each engine did.
func printOutcomes(w io.Writer, r conformance.Result) {
	for _, o := range r.Outcomes {
		switch {
		case o.Skipped != "":
			fmt.Fprintf(w, "    %s: skipped: %s\n", o.Engine, o.Skipped)
			continue
		case !o.Loaded:
			fmt.Fprintf(w, "    %s: load failed: %v\n", o.Engine, o.LoadErr)
		case o.RunErr != nil:
			fmt.Fprintf(w, "    %s: loaded; run failed: %v\n", o.Engine, o.RunErr)
		case o.Ran:
			fmt.Fprintf(w, "    %s: loaded; retval %d (%#x)\n", o.Engine, int32(o.Retval), o.Retval)
		default:
			fmt.Fprintf(w, "    %s: loaded\n", o.Engine)
		}
		if log := strings.TrimSpace(o.Log); log != "" && (r.Status == conformance.Fail || len(r.Expect.Messages) > 0) {
			for _, line := range strings.Split(log, "\n") {
				fmt.Fprintf(w, "      | %s\n", line)
			}
		}
	}
}
