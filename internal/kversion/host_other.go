//go:build !linux

package kversion

import "errors"

// HostVersion fails off Linux: "host" names a Linux kernel.
func HostVersion() (Version, error) {
	_, err := HostRelease()
	return Version{}, err
}

// HostRelease fails off Linux: "host" names a Linux kernel.
func HostRelease() (string, error) {
	return "", errors.New(`kernel "host": not running on Linux`)
}
