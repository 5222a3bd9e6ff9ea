// Package sys is the thin layer over the bpf(2) system call that the kernel
// engine is built on: the bpf_attr layouts of the commands it uses, a file
// descriptor type that closes exactly once, and helpers for the verifier
// log and program streams.
//
// Everything except this file is Linux-only; on other systems the package
// is empty and the kernel engine reports engine.ErrNotSupported.
package sys
