package kversion

import "golang.org/x/sys/unix"

// HostRelease is the running kernel's release string.
func HostRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}
