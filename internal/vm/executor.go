package vm

// executor is a back end: it runs a program's decoded code on the state of
// one run. Program.Run, RunRaw and the helpers that call back into the
// program (bpf_loop) reach code only through it, so a second back end (a
// compiler to machine code) can take the interpreter's place without
// touching them.
//
// The decoded program is m.p (its code, function table and line info);
// the run's state is m: stack, regions, instruction budget. What a call
// gives back is r0, and faults: arena accesses to absent pages go to
// m.faults (the access reads 0 or is skipped, as in the kernel), and an
// error ends the run. Errors are *RuntimeError, with the program,
// instruction and source line, wrapping sentinels such as ErrBudget. A
// helper that returns errTailCalled (bpf_tail_call) has run another
// program in the calling frame's place: the frame ends at once with the
// helper's result as r0.
type executor interface {
	// call runs the function that starts at instruction index entry in a
	// new frame at depth (0 for the program's entry, one more for each
	// callback), with r1-r5 as its arguments, and returns its r0. It
	// charges m.budget with the instructions run, including those of
	// nested calls.
	call(m *machine, entry int, r1, r2, r3, r4, r5 uint64, depth int) (uint64, error)
}

// defaultExecutor is the back end programs are decoded for.
var defaultExecutor executor = interpreter{}

// call runs a function of the current program through its back end.
func (m *machine) call(entry int, r1, r2, r3, r4, r5 uint64, depth int) (uint64, error) {
	if m.prof != nil && depth > 0 && m.p == m.prof.prog {
		return m.prof.callback(m, entry, r1, r2, r3, r4, r5, depth)
	}
	return m.p.ex.call(m, entry, r1, r2, r3, r4, r5, depth)
}
