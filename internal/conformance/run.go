package conformance

import (
	"errors"
	"fmt"
	"github.com/bpfarena/bpfarena/internal/matrix"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/internal/kversion"
	"github.com/bpfarena/bpfarena/object"
)

// Status is a test's verdict.
type Status string

// Verdicts.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Outcome is what one engine did with one test program.
type Outcome struct {
	Engine  bpfarena.Engine
	Skipped string // non-empty: why the engine could not run the test
	// Unsupported is set when it could not because the engine cannot
	// run here (bpfarena.ErrNotSupported), not because of the test.
	Unsupported bool
	Loaded      bool
	LoadErr     error
	Log         string
	Ran         bool
	Retval      uint32
	RunErr      error
}

// Result is one test: a program with annotations, on one or more engines.
type Result struct {
	File     string
	Program  string
	Expect   Expect
	Status   Status
	Reason   string
	Outcomes []Outcome
}

// NotSupported reports whether an engine could not run the test because
// it cannot run here at all.
func (r Result) NotSupported() bool {
	for _, o := range r.Outcomes {
		if o.Unsupported {
			return true
		}
	}
	return false
}

func (r Result) String() string {
	var engines []string
	for _, o := range r.Outcomes {
		engines = append(engines, o.Engine.String())
	}
	s := fmt.Sprintf("%s %s:%s [%s]", r.Status, r.File, r.Program, strings.Join(engines, ","))
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

// testData is the packet given to programs that take one; the kernel
// selftests use packets of this length.
var testData = make([]byte, 64)

// RunFile runs every annotated program of the object at path on each of
// the engines.
func RunFile(path string, engines []bpfarena.Engine) ([]Result, error) {
	spec, err := bpfarena.LoadSpec(path)
	if err != nil {
		return nil, err
	}
	return RunSpec(spec, engines)
}

// RunSpec is RunFile on a parsed object.
func RunSpec(spec *object.Spec, engines []bpfarena.Engine) ([]Result, error) {
	return RunSpecKernel(spec, engines, "")
}

// RunSpecKernel is RunSpec with the vm modelling kernel (see
// bpfarena.Options.Kernel); the kernel engine runs the running kernel.
// Tests whose annotations bound the kernel version are skipped, with the
// reason, on an engine whose kernel lies outside.
func RunSpecKernel(spec *object.Spec, engines []bpfarena.Engine, kernel string) ([]Result, error) {
	var aux []string
	expects := map[string]Expect{}
	for _, p := range spec.Programs {
		e, err := ParseTags(p.Tags)
		if err != nil {
			return nil, fmt.Errorf("%s: program %s: %w", spec.Path, p.Name, err)
		}
		expects[p.Name] = e
		if e.Auxiliary {
			aux = append(aux, p.Name)
		}
	}
	var results []Result
	for _, p := range spec.Programs {
		e := expects[p.Name]
		if !e.Annotated || e.Auxiliary {
			continue
		}
		r := Result{File: spec.Path, Program: p.Name, Expect: e}
		if len(e.Arches) > 0 && !slices.Contains(e.Arches, runtime.GOARCH) {
			r.Status, r.Reason = Skip, fmt.Sprintf("a test for %s, not %s", strings.Join(e.Arches, ", "), runtime.GOARCH)
			results = append(results, r)
			continue
		}
		for _, eng := range engines {
			r.Outcomes = append(r.Outcomes, runOne(spec, p, e, aux, eng, kernel))
		}
		judge(&r)
		results = append(results, r)
	}
	return results, nil
}

// hitsComplexityLimit reports an expected rejection for a million
// processed instructions.
func (e Expect) hitsComplexityLimit() bool {
	for _, m := range e.Messages {
		if strings.Contains(m.Text, "BPF program is too large") {
			return true
		}
	}
	return false
}

// engineKernel is the kernel version an engine behaves as.
func engineKernel(eng bpfarena.Engine, kernel string) (kversion.Version, error) {
	if eng == bpfarena.Kernel {
		kernel = "host"
	}
	if kernel == "host" {
		return kversion.HostVersion()
	}
	m, err := kversion.Parse(kernel)
	if err != nil {
		return kversion.Version{}, err
	}
	return m.Version, nil
}

func runOne(spec *object.Spec, p *object.ProgramSpec, e Expect, aux []string, eng bpfarena.Engine, kernel string) Outcome {
	o := Outcome{Engine: eng}
	if eng == bpfarena.Kernel && os.Getenv(matrix.EnvKernel) != "" && e.hitsComplexityLimit() {
		// A million verifier steps take many minutes under the
		// matrix's emulation; the host's kernel checks these natively.
		o.Skipped = "the complexity limit under the kernel matrix's emulation (checked natively)"
		return o
	}
	if !e.KernelMin.IsZero() || !e.KernelMax.IsZero() {
		v, err := engineKernel(eng, kernel)
		if err == nil {
			if why := e.KernelRange(v); why != "" {
				o.Skipped = why
				return o
			}
		}
	}
	if eng == bpfarena.Kernel {
		kernel = ""
	}
	level := e.LogLevel
	if level == 0 && e.Success && len(e.Messages) > 0 {
		level = 2
	}
	coll, err := bpfarena.Load(spec, bpfarena.Options{Engine: eng, LogLevel: level, Programs: append([]string{p.Name}, aux...), Kernel: kernel})
	if err != nil {
		if errors.Is(err, bpfarena.ErrNotSupported) {
			o.Skipped, o.Unsupported = err.Error(), true
			return o
		}
		o.LoadErr = err
		o.Log = errorLog(err)
		return o
	}
	defer coll.Close()
	o.Loaded = true
	prog := coll.Program(p.Name)
	o.Log = prog.Log()
	if e.Retval == nil {
		return o
	}
	opts := bpfarena.RunOptions{}
	switch p.Type {
	case object.SchedCLS, object.SchedACT, object.XDP, object.SocketFilter:
		opts.Data = testData
	}
	res, err := prog.Test(opts)
	o.Ran = true
	if err != nil {
		o.RunErr = err
		return o
	}
	o.Retval = res.Retval
	return o
}

// errorLog is the verifier log an error carries, or its text.
func errorLog(err error) string {
	var ve *bpfarena.VerifierError
	if errors.As(err, &ve) && ve.Log != "" {
		if ve.Msg != "" && !strings.Contains(ve.Log, ve.Msg) {
			// The engine's reading of the log (the kfunc a poisoned
			// call stands for) counts as part of it.
			return ve.Log + ve.Msg + "\n"
		}
		return ve.Log
	}
	return err.Error()
}

func judge(r *Result) {
	var skips []string
	var fails []string
	ran := 0
	for _, o := range r.Outcomes {
		if o.Skipped != "" {
			skips = append(skips, o.Engine.String()+": "+o.Skipped)
			continue
		}
		ran++
		if msg := check(r.Expect, o); msg != "" {
			fails = append(fails, o.Engine.String()+": "+msg)
		}
	}
	if ran == 0 {
		r.Status, r.Reason = Skip, strings.Join(skips, "; ")
		return
	}
	if len(fails) == 0 && ran > 1 {
		if msg := agree(r.Outcomes); msg != "" {
			fails = append(fails, "engines disagree: "+msg)
		}
	}
	if len(fails) > 0 {
		r.Status, r.Reason = Fail, strings.Join(fails, "; ")
		return
	}
	r.Status = Pass
	if len(skips) > 0 {
		r.Reason = "skipped " + strings.Join(skips, "; ")
	}
}

func check(e Expect, o Outcome) string {
	if e.Failure {
		if o.Loaded {
			return "loaded, but the annotation expects a rejection"
		}
	} else if !o.Loaded {
		return fmt.Sprintf("load failed: %s", firstLine(o.LoadErr))
	}
	if msg := matchMessages(e.Messages, o.Log); msg != "" {
		return msg
	}
	if e.Retval != nil && o.Loaded {
		if o.RunErr != nil {
			return fmt.Sprintf("run failed: %v", o.RunErr)
		}
		if want := uint32(*e.Retval); o.Retval != want {
			return fmt.Sprintf("retval %d (%#x), want %s = %d (%#x)", int32(o.Retval), o.Retval, e.RetvalText, int32(want), want)
		}
	}
	return ""
}

// matchMessages checks that every message appears in the log, in order.
func matchMessages(msgs []Message, log string) string {
	rest := log
	for _, m := range msgs {
		if m.Regex != nil {
			loc := m.Regex.FindStringIndex(rest)
			if loc == nil {
				return fmt.Sprintf("log lacks %s (after the earlier messages)%s", m, logTail(log))
			}
			rest = rest[loc[1]:]
			continue
		}
		i := strings.Index(rest, m.Text)
		if i < 0 {
			return fmt.Sprintf("log lacks %s (after the earlier messages)%s", m, logTail(log))
		}
		rest = rest[i+len(m.Text):]
	}
	return ""
}

func logTail(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	if len(lines) == 0 || lines[0] == "" {
		return "; the log is empty"
	}
	return "; log ends: " + strings.Join(lines, " | ")
}

func agree(os []Outcome) string {
	var ref *Outcome
	for i := range os {
		o := &os[i]
		if o.Skipped != "" {
			continue
		}
		if ref == nil {
			ref = o
			continue
		}
		if o.Loaded != ref.Loaded {
			return fmt.Sprintf("%s loaded=%v, %s loaded=%v", ref.Engine, ref.Loaded, o.Engine, o.Loaded)
		}
		if o.Ran && ref.Ran && o.Retval != ref.Retval {
			return fmt.Sprintf("%s retval %#x, %s retval %#x", ref.Engine, ref.Retval, o.Engine, o.Retval)
		}
	}
	return ""
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
