//go:build !linux

package kversion

import "errors"

// HostRelease fails off Linux: "host" names a Linux kernel.
func HostRelease() (string, error) {
	return "", errors.New(`kernel "host": not running on Linux`)
}
