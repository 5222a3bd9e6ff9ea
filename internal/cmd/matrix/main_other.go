//go:build !linux

package main

import (
	"fmt"
	"os"
)

// The matrix boots Linux kernels under qemu-system-x86_64 and runs Linux
// test binaries: it needs a Linux host.
func main() {
	fmt.Fprintln(os.Stderr, "matrix: runs on Linux only")
	os.Exit(1)
}
