package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/bpfarena/bpfarena/internal/kernel"
)

// cmdProbe lists what the running kernel supports for arena programs.
func cmdProbe(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 0 {
		return errUsage
	}
	features := kernel.Probe()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(features)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, f := range features {
		state := "no"
		if f.OK {
			state = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, state, f.Detail)
	}
	return tw.Flush()
}
