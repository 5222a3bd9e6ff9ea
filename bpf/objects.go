// Package bpf holds the project's BPF C programs and their compiled
// objects (built by build.sh with clang-19), embedded so that tests,
// examples and the command find them wherever they run.
package bpf

import (
	"embed"
	"io/fs"
)

//go:embed examples/*.bpf.o corpus/*.bpf.o invalid/*.bpf.o
var objects embed.FS

//go:embed include/*.h
var headers embed.FS

// Objects is the tree of compiled objects: examples/NAME.bpf.o,
// corpus/NAME.bpf.o and invalid/NAME.bpf.o (objects that must fail to load).
func Objects() fs.FS { return objects }

// Read returns the bytes of one object, e.g. "examples/htab.bpf.o".
func Read(name string) ([]byte, error) { return objects.ReadFile(name) }

// Glob lists the objects matching pattern, e.g. "corpus/*.bpf.o".
func Glob(pattern string) ([]string, error) { return fs.Glob(objects, pattern) }

// Headers is the tree of the headers BPF C includes to use an arena:
// include/bpfarena.h and include/bpfarena_alloc.h. `bpfarena gen` puts
// them on clang's include path.
func Headers() fs.FS { return headers }
