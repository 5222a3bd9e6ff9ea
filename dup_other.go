//go:build !unix

package bpfarena

import "fmt"

func dupFD(fd int) (int, error) {
	return -1, fmt.Errorf("descriptors: %w", ErrNotSupported)
}
