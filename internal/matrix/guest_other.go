//go:build !linux

package matrix

// IsGuest is false off Linux: guests are Linux.
func IsGuest() bool { return false }

// GuestMain is never called off Linux.
func GuestMain() { panic("matrix: guest init on a non-Linux system") }
