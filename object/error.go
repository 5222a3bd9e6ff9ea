package object

import (
	"errors"
	"fmt"
)

// Error is the error returned for an object that cannot be read. It says
// where the problem is: the file, the ELF section (empty when the problem is
// not inside one) and the byte offset in that section (or in the file when
// Section is empty; -1 when no offset applies).
type Error struct {
	File    string
	Section string
	Offset  int64
	Err     error
}

func (e *Error) Error() string {
	var s string
	if e.File != "" {
		s = e.File + ": "
	}
	if e.Section != "" {
		s += "section " + e.Section + ": "
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf("offset %#x: ", e.Offset)
	}
	return s + e.Err.Error()
}

// Unwrap returns the cause, so that errors.Is works with the errno values
// this package uses for libbpf's rejections (syscall.ENOENT, syscall.E2BIG,
// syscall.EINVAL).
func (e *Error) Unwrap() error { return e.Err }

// ErrNotBPF is wrapped by the error for an ELF file that is not a
// little-endian 64-bit BPF relocatable object.
var ErrNotBPF = errors.New("not a little-endian 64-bit BPF ELF object")

// errorf builds an *Error for section sec at offset off.
func (l *loader) errorf(sec string, off int64, format string, args ...any) error {
	return &Error{File: l.name, Section: sec, Offset: off, Err: fmt.Errorf(format, args...)}
}
