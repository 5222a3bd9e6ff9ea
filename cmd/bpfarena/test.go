package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

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
	var passed, failed, skipped int
	enc := json.NewEncoder(stdout)
	for _, path := range pos {
		results, err := conformance.RunFile(path, engines)
		if err != nil {
			failed++
			if *asJSON {
				enc.Encode(testLine{Status: "FAIL", File: path, Reason: err.Error()})
			} else {
				fmt.Fprintf(stdout, "FAIL %s: %v\n", path, err)
			}
			continue
		}
		for _, r := range results {
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
				fmt.Fprintln(stdout, r)
			}
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Fprintln(stdout, summary)
	if failed > 0 {
		return errFailed
	}
	return nil
}
