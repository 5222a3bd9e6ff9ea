package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func repoPath(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := realMain(args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func TestInspectJSON(t *testing.T) {
	out, errOut, code := runCmd(t, "inspect", "--json", repoPath("bpf", "examples", "globals.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got inspectOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var arena *inspectMap
	for i := range got.Maps {
		if got.Maps[i].Type == "arena" {
			arena = &got.Maps[i]
		}
	}
	if arena == nil || arena.MaxEntries != 4 || arena.Flags&(1<<10) == 0 {
		t.Fatalf("arena map: %+v", arena)
	}
	sections := map[string]string{}
	for _, g := range got.Globals {
		sections[g.Name] = g.Section
	}
	for name, sec := range map[string]string{"counter": ".addr_space.1", "bss_sum": ".bss", "data_var": ".data"} {
		if sections[name] != sec {
			t.Errorf("global %s in %q, want %q", name, sections[name], sec)
		}
	}
}

func TestInspectFixedArena(t *testing.T) {
	out, errOut, code := runCmd(t, "inspect", repoPath("bpf", "examples", "fixed.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`arena\s+arena.*MMAPABLE\s+0x[0-9a-f]{9,}`).MatchString(out) {
		t.Fatalf("no arena with a map_extra address in:\n%s", out)
	}
}

func TestDisasm(t *testing.T) {
	out, errOut, code := runCmd(t, "disasm", repoPath("bpf", "examples", "list.bpf.o"), "sum")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"addr_space_cast(r1, 0, 1)", // the cast in kernel syntax
		"map[arena]",                // a map reference named
		"map_value[.bss] head",      // a global named
		"list.bpf.c:",               // source lines from line info
		"may_goto pc+",
		"exit",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("disasm lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runCmd(t, "disasm", repoPath("bpf", "examples", "list.bpf.o"), "build")
	if !strings.Contains(out, "call bpf_arena_alloc_pages") {
		t.Errorf("kfunc call not named:\n%s", out)
	}
}

func TestRunJSON(t *testing.T) {
	out, errOut, code := runCmd(t, "run", "--json", "--set", "n=10", "--repeat", "1",
		repoPath("bpf", "examples", "list.bpf.o"), "build", "sum")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Engine   string `json:"engine"`
		Programs []struct {
			Name   string `json:"name"`
			Retval uint32 `json:"retval"`
			Runs   int    `json:"runs"`
		} `json:"programs"`
		Globals map[string]json.RawMessage `json:"globals"`
		Arena   struct {
			UserVMStart  uint64 `json:"user_vm_start"`
			Pages        int    `json:"pages"`
			PresentPages int    `json:"present_pages"`
		} `json:"arena"`
		Faults []any `json:"faults"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Engine != "vm" || len(got.Programs) != 2 || got.Programs[0].Retval != 10 || got.Programs[1].Retval != 55 {
		t.Fatalf("programs: %+v", got)
	}
	if string(got.Globals["total"]) != "55" || string(got.Globals["n"]) != "10" {
		t.Fatalf("globals: %s", out)
	}
	if got.Arena.Pages != 64 || got.Arena.PresentPages < 1 || got.Arena.UserVMStart == 0 {
		t.Fatalf("arena: %+v", got.Arena)
	}
	// head is a pointer into the arena: an exact 64-bit number.
	var head uint64
	if err := json.Unmarshal(got.Globals["head"], &head); err != nil || head < got.Arena.UserVMStart {
		t.Fatalf("head %s not in the arena at %#x", got.Globals["head"], got.Arena.UserVMStart)
	}
}

func TestRunFaults(t *testing.T) {
	out, errOut, code := runCmd(t, "run", "--json", repoPath("bpf", "examples", "pages.bpf.o"), "absent")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Faults []struct {
			Program string `json:"program"`
			Kind    string `json:"kind"`
			Address uint64 `json:"address"`
			Line    string `json:"line"`
		} `json:"faults"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, f := range got.Faults {
		kinds[f.Kind] = true
		if f.Program != "absent" || f.Address == 0 || !strings.Contains(f.Line, "pages.bpf.c:") {
			t.Errorf("fault %+v", f)
		}
	}
	if !kinds["read"] || !kinds["write"] {
		t.Fatalf("faults %+v: want reads and writes of absent pages", got.Faults)
	}
}

func TestTestCommand(t *testing.T) {
	out, _, code := runCmd(t, "test", repoPath("bpf", "corpus", "alu.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^\d+ passed, 0 failed$`).MatchString(out) {
		t.Fatalf("no summary line:\n%s", out)
	}
}

// An object without a test it can read fails the command, with a line
// saying so; the numbered tag form of Linux 7.3 is read.
func TestTestCommandForms(t *testing.T) {
	out, _, code := runCmd(t, "test", repoPath("bpf", "examples", "counter.bpf.o"))
	if code == 0 || !strings.Contains(out, "no test: no program carries a test annotation") {
		t.Errorf("object without tests: exit %d:\n%s", code, out)
	}
	out, _, code = runCmd(t, "test", "-v", repoPath("bpf", "corpus", "tags_numbered.bpf.o"))
	if code != 0 || !strings.Contains(out, "3 passed, 0 failed") || !strings.Contains(out, "    vm: loaded; retval 7 (0x7)") {
		t.Errorf("numbered tags: exit %d:\n%s", code, out)
	}
}

func TestRunSetBool(t *testing.T) {
	obj := repoPath("bpf", "corpus", "tags_numbered.bpf.o")
	for _, tc := range []struct {
		value string
		want  uint32
	}{{"true", 8}, {"false", 7}, {"1", 8}} {
		out, errOut, code := runCmd(t, "run", "--json", "--set", "flag="+tc.value, obj, "numbered_retval")
		if code != 0 {
			t.Fatalf("--set flag=%s: exit %d: %s", tc.value, code, errOut)
		}
		var got struct {
			Programs []struct {
				Retval uint32 `json:"retval"`
			} `json:"programs"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Programs) != 1 {
			t.Fatalf("%v\n%s", err, out)
		}
		if got.Programs[0].Retval != tc.want {
			t.Errorf("--set flag=%s: retval %d, want %d", tc.value, got.Programs[0].Retval, tc.want)
		}
	}
	if _, errOut, code := runCmd(t, "run", "--set", "flag=maybe", obj, "numbered_retval"); code == 0 || !strings.Contains(errOut, "not a bool") {
		t.Errorf("--set flag=maybe: exit %d, stderr %q", code, errOut)
	}
}

func TestBadInput(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.o")
	os.WriteFile(garbage, []byte("\x7fELF this is not an object"), 0o644)
	for _, args := range [][]string{
		{},
		{"nope"},
		{"inspect"},
		{"inspect", garbage},
		{"inspect", "/does/not/exist.o"},
		{"run", repoPath("bpf", "examples", "list.bpf.o")},
		{"run", repoPath("bpf", "examples", "list.bpf.o"), "nosuchprog"},
		{"run", "--engine", "quantum", repoPath("bpf", "examples", "list.bpf.o"), "build"},
		{"run", "--set", "nosuch=1", repoPath("bpf", "examples", "list.bpf.o"), "build"},
		{"run", "--set", "n=notanumber", repoPath("bpf", "examples", "list.bpf.o"), "build"},
		{"disasm", repoPath("bpf", "examples", "list.bpf.o"), "nosuchprog"},
	} {
		_, errOut, code := runCmd(t, args...)
		if code == 0 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q; want a failure with a message", args, code, errOut)
		}
	}
}

// run --pin in two runs (build, then sum and teardown) ends with the same
// globals and arena as one run of all three, on each engine; unpin removes
// the pins.
func TestRunPin(t *testing.T) {
	type result struct {
		Programs []struct {
			Retval uint32 `json:"retval"`
		} `json:"programs"`
		Globals map[string]json.RawMessage `json:"globals"`
		Arena   struct {
			PresentPages int `json:"present_pages"`
		} `json:"arena"`
	}
	decode := func(out string) result {
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return r
	}
	obj := repoPath("bpf", "examples", "list.bpf.o")
	for _, engine := range []string{"vm", "kernel"} {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir() + "/pin"
			if engine == "kernel" {
				dir = fmt.Sprintf("/sys/fs/bpf/bpfarena-cmd-test-%d", os.Getpid())
			}
			out, errOut, code := runCmd(t, "run", "--json", "--engine", engine, "--pin", dir, obj, "build")
			if code != 0 {
				if engine == "kernel" && strings.Contains(errOut, "not supported") {
					t.Skip(errOut)
				}
				t.Fatalf("build: exit %d: %s", code, errOut)
			}
			defer runCmd(t, "unpin", dir)
			out, errOut, code = runCmd(t, "run", "--json", "--engine", engine, "--pin", dir, obj, "sum", "teardown")
			if code != 0 {
				t.Fatalf("sum, teardown: exit %d: %s", code, errOut)
			}
			two := decode(out)
			out, errOut, code = runCmd(t, "run", "--json", "--engine", engine, obj, "build", "sum", "teardown")
			if code != 0 {
				t.Fatalf("one run: exit %d: %s", code, errOut)
			}
			one := decode(out)
			if two.Programs[0].Retval != one.Programs[1].Retval || two.Programs[1].Retval != one.Programs[2].Retval ||
				!reflect.DeepEqual(two.Globals, one.Globals) || two.Arena.PresentPages != one.Arena.PresentPages {
				t.Errorf("pinned runs:\n%+v\none run:\n%+v", two, one)
			}
			if _, errOut, code := runCmd(t, "unpin", dir); code != 0 {
				t.Errorf("unpin: %s", errOut)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s still there after unpin: %v", dir, err)
			}
		})
	}
}
