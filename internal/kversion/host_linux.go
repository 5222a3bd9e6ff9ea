package kversion

import "golang.org/x/sys/unix"

// HostVersion is the running kernel's major.minor.
func HostVersion() (Version, error) {
	rel, err := HostRelease()
	if err != nil {
		return Version{}, err
	}
	return ParseVersion(rel)
}

// HostRelease is the running kernel's release string.
func HostRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}
