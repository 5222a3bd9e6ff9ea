package vm

import (
	"errors"
	"syscall"
)

// Kernel errno values that programs see as negative return codes.
const (
	eNOENT = syscall.ENOENT
	eE2BIG = syscall.E2BIG
	eBUSY  = syscall.EBUSY
	eEXIST = syscall.EEXIST
	eINVAL = syscall.EINVAL
)

var (
	errInval  = syscall.EINVAL
	errTooBig = syscall.E2BIG
	errRange  = syscall.ERANGE
	errNoEnt  = syscall.ENOENT

	// ErrBudget is returned when a run executes more instructions than
	// its budget allows.
	ErrBudget = errors.New("instruction budget exhausted")
)
