package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/bpf"
	"github.com/bpfarena/bpfarena/internal/gen"
)

// cmdGen writes the Go skeleton of an object (see package internal/gen)
// into DIR/<ident>_bpfarena.go, with the object beside it for go:embed.
// Given BPF C (a .c file), it compiles it with clang first.
func cmdGen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	pkg := fs.String("package", "", "Go package `name` of the output (required)")
	ident := fs.String("ident", "", "`name` prefixing the generated names (required)")
	outDir := fs.String("out", ".", "write into `dir`")
	var types multiFlag
	fs.Var(&types, "type", "also generate C type `T` (\"struct foo\" or a bare name); repeatable")
	cc := fs.String("cc", "", "C compiler for .c input (default $BPF_CLANG, else clang-19, else clang)")
	cflags := fs.String("cflags", "", "extra compiler `flags` for .c input (space separated)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want one object file or BPF C source", errUsage)
	}
	if *pkg == "" || *ident == "" {
		return fmt.Errorf("%w: --package and --ident are required", errUsage)
	}
	in := pos[0]
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	var obj string // the object beside the generated file
	if strings.HasSuffix(in, ".c") {
		obj = filepath.Join(*outDir, strings.TrimSuffix(filepath.Base(in), ".c")+".o")
		if err := compileBPF(*cc, strings.Fields(*cflags), in, obj); err != nil {
			return err
		}
	} else {
		obj = filepath.Join(*outDir, filepath.Base(in))
		if err := copyIfElsewhere(in, obj); err != nil {
			return err
		}
	}
	spec, err := bpfarena.LoadSpec(obj)
	if err != nil {
		return err
	}
	src, err := gen.Generate(gen.Args{
		Package: *pkg,
		Ident:   *ident,
		Object:  filepath.Base(obj),
		Types:   types,
		Spec:    spec,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	out := filepath.Join(*outDir, gen.FileName(*ident))
	if err := writeIfChanged(out, src); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", out, filepath.Base(obj))
	return nil
}

// copyIfElsewhere copies the object src to dst unless they are one file.
func copyIfElsewhere(src, dst string) error {
	si, err := os.Stat(src)
	if err != nil {
		return err
	}
	if di, err := os.Stat(dst); err == nil && os.SameFile(si, di) {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeIfChanged(dst, b)
}

// writeIfChanged leaves a file with the same content untouched, so that
// regenerating does not change modification times.
func writeIfChanged(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// errNoCompiler: no clang to compile BPF C with.
var errNoCompiler = errors.New("no clang found")

// compileBPF compiles the BPF C file src into the object dst with the
// project's flags: the headers of bpf/include on the include path, the
// multiarch system directory for <asm/types.h>, and path prefixes mapped
// so that the object has the same bytes in every checkout.
func compileBPF(cc string, extra []string, src, dst string) error {
	if cc == "" {
		cc = os.Getenv("BPF_CLANG")
	}
	if cc == "" {
		for _, c := range []string{"clang-19", "clang"} {
			if _, err := exec.LookPath(c); err == nil {
				cc = c
				break
			}
		}
	}
	if cc == "" {
		return fmt.Errorf("compiling %s: %w (install clang-19, or pass --cc or BPF_CLANG)", src, errNoCompiler)
	}
	inc, err := os.MkdirTemp("", "bpfarena-include-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(inc)
	if err := writeHeaders(inc); err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	args := []string{"-O2", "-g", "-target", "bpf", "-mcpu=v4", "-Wall", "-Wno-unused-function",
		"-I", filepath.Dir(src), "-I", inc}
	if d := multiarchInclude(); d != "" {
		args = append(args, "-idirafter", d)
	}
	args = append(args,
		"-fdebug-prefix-map="+inc+"=bpfarena", "-fmacro-prefix-map="+inc+"=bpfarena",
		"-fdebug-prefix-map="+wd+"=.", "-fmacro-prefix-map="+wd+"=.")
	args = append(args, extra...)
	tmp := dst + ".tmp"
	args = append(args, "-c", src, "-o", tmp)
	cmd := exec.Command(cc, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compiling %s with %s: %w\n%s", src, cc, err, strings.TrimSpace(stderr.String()))
	}
	b, err := os.ReadFile(tmp)
	os.Remove(tmp)
	if err != nil {
		return err
	}
	return writeIfChanged(dst, b)
}

// writeHeaders writes the project's BPF headers into dir.
func writeHeaders(dir string) error {
	h := bpf.Headers()
	return fs.WalkDir(h, "include", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(h, path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(path)), b, 0o644)
	})
}

// multiarchInclude is Debian's multiarch include directory holding
// <asm/types.h>, which clang does not search with -target bpf.
func multiarchInclude() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "riscv64": "riscv64",
		"ppc64le": "powerpc64le", "s390x": "s390x", "386": "i386"}[runtime.GOARCH]
	cands := []string{"/usr/include/" + arch + "-linux-gnu"}
	more, _ := filepath.Glob("/usr/include/*-linux-gnu")
	for _, d := range append(cands, more...) {
		if _, err := os.Stat(filepath.Join(d, "asm", "types.h")); err == nil {
			return d
		}
	}
	return ""
}
