package object

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// A cut-off object says that it is truncated and where, not only "EOF".
func TestTruncated(t *testing.T) {
	b, err := os.ReadFile("../bpf/examples/list.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n    int
		want string
	}{
		{40, "shorter than the 64-byte ELF header"},
		{3000, "the section headers should end at byte"},
	} {
		_, err := LoadReader(bytes.NewReader(b[:c.n]), "cut.o")
		if err == nil || !strings.Contains(err.Error(), "truncated object") || !strings.Contains(err.Error(), c.want) ||
			!errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%d bytes: %v; want a truncated-object error saying %q", c.n, err, c.want)
		}
	}
}
