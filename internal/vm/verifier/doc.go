// Package verifier is the vm engine's static pass. It rejects what Linux
// 6.18 rejects about arenas, with the kernel's messages and errnos, rejects
// the common unsafe things the same way, and tells the interpreter what
// each memory access goes through (arena or other memory), which only a
// static pass can know: at run time an arena pointer is a plain number.
//
// # How it works
//
// The checks the kernel makes before walking a program come first, in the
// kernel's order: the encoding of every instruction (asm.Validate), the
// maps the ld_imm64 instructions name (one arena per program, its address
// fixed), the functions and that no jump leaves its function, and that
// every instruction is reachable.
//
// Then an abstract interpreter walks the program from its entry with r1 the
// context and r10 the frame pointer, typing every register and 8-byte
// stack slot: not initialised, scalar (with its value when it is a known
// constant), ctx, stack (frame and offset), map, map value, arena, packet,
// packet end and metadata, memory from a helper, subprogram, or a set of
// these where paths with different types meet. Like the kernel, it follows
// both ways of a branch and drops a branch a known constant rules out;
// unlike the kernel it keeps at most a few states per instruction and merges
// further arrivals into one (constants that differ become unknown), which
// bounds the work on any program. Loops are then replayed on their own,
// one path at a time as the kernel explores them (see checkLoops in
// loops.go): a loop whose course the replay can follow and that does not
// end is rejected as the kernel rejects it. Static functions are walked in the
// context of each call, global ones once on their own with their arguments
// typed from BTF (arg:arena arguments are arena pointers), callbacks of
// bpf_loop as calls that may repeat. Along the way it follows what the
// kernel follows about the program as a whole: critical sections
// (bpf_preempt_disable, bpf_local_irq_save, bpf_rcu_read_lock,
// bpf_spin_lock), bpf_iter_num iterators, the packet bytes proven readable,
// and the stack each function uses (a chain of calls may not use more than
// 512 bytes).
//
// A load, store or atomic whose base is an arena pointer on every path is
// AccessArena; any other pointer gives AccessOther. An instruction that
// reaches arena memory on one path and other memory on another is rejected
// ("same insn cannot be used with different pointers"), as the kernel
// does: the interpreter, like the JIT, decides once per instruction how to
// address it. For the same reason Result.ALU32 marks the 64-bit arithmetic
// instructions whose destination is an arena pointer: the kernel performs
// them in 32 bits, and the interpreter must too. Result.LiveEdges says
// which sides of each conditional jump the walk reached: the kernel
// hard-wires a jump with a dead side, which a run can tell when a faulting
// arena atomic leaves a register outside what the verifier assumed, so the
// interpreter hard-wires the same jumps.
//
// # Divergences from Linux 6.18
//
// The vm checks at run time what this pass does not prove, so it accepts
// some programs the kernel rejects:
//
//   - Scalars carry no ranges: a number is a known constant, unbounded
//     (any 64-bit value: a full-width load, a helper's result, until a
//     comparison), known to fit in 8, 16 or 32 bits (a narrow load, a
//     32-bit result), or neither. Branches are decided from constants and
//     those widths only, so the kernel hard-wires some jumps the vm runs
//     both ways; that shows only after a faulting narrow atomic or
//     load-acquire leaves its register holding more than 32 bits. Offsetting a pointer by an unbounded number is
//     refused as in the kernel ("math between map_value pointer and register
//     with unbounded min value is not allowed"), but variable offsets into
//     map values, memory and packets are not checked against their bounds
//     ("R1 max value is outside of the allowed memory range" and the like),
//     and 32-bit comparisons count as bounding the whole register. Helper
//     size arguments and program return codes are not checked either.
//   - Packet accesses are checked against data_end comparisons only at
//     constant offsets; data_meta is not checked.
//   - Ring buffer records and bpf_res_spin_lock are not tracked
//     ("Unreleased reference" is not reported for them); bpf_iter_num
//     iterators are (created once, used while live, destroyed before
//     exit).
//   - Context accesses must be aligned and at non-negative offsets, and XDP
//     ones must be 32-bit reads of struct xdp_md; the fields of other
//     context types (tc's __sk_buff...) are not checked, only their
//     packet pointers followed.
//   - Loops are replayed only where the replay stands for the kernel's
//     walk: a loop that calls a kfunc, a function or a helper taking a
//     callback, or uses may_goto, is not (those have the kernel's own
//     rules), nor one with a branch
//     that neither constants nor a number the kernel cannot bound decide
//     (a loop on a bound the vm has lost track of loads and runs under
//     the interpreter's instruction budget). Where the replay rejects,
//     the verdict and message are the kernel's, but the processed
//     instruction count is the replay's, and a state the kernel tells
//     apart by ranges the vm does not track can end the replay as
//     "infinite loop detected" where the kernel goes on to "BPF program
//     is too large". Elsewhere the kernel may find a program too complex
//     that this pass accepts, and the other way round.
//   - bpf_loop callbacks must return 0 or 1 only where that is a known
//     constant; callbacks do not count in the combined stack size of a
//     call chain.
//
// It rejects some programs the kernel accepts:
//
//   - Helpers and kfuncs the vm engine does not provide ("program of this
//     type cannot use helper bpf_tail_call#12", "calling kernel function
//     bpf_obj_new_impl is not allowed").
//   - Loads through a map pointer whose map struct is not in the BTF CO-RE
//     resolves against (Env.MapStruct), or through a kernel symbol:
//     "R1 invalid mem access 'map_ptr'". Pointer members of a map struct
//     read as numbers, not as the kernel's untrusted pointers.
//   - Where merged paths disagree (past the few states kept apart), an
//     error one of them would have can surface on the merged state even
//     though the kernel, following paths one by one, would rule that path
//     out, for example a register set and tested under the same condition
//     once more than eight paths meet.
//
// It follows a privileged loader (CAP_BPF and CAP_PERFMON, as the kernel
// engine runs): pointers may be stored, compared, subtracted and returned,
// and stack bytes never written read as unknown numbers unless
// Env.StrictStack asks for the unprivileged rule ("invalid read from stack
// off -8+0 size 8"). Syscall programs are sleepable, as libbpf loads them.
//
// Where the kernel logs two lines for one error, both are in the log and
// Error.Msg is the specific one: "invalid access to map value,
// value_size=8 off=4 size=8" (then "R0 min value is outside of the allowed
// memory range"), "R1 is not a pointer to arena or scalar." (then "Caller
// passes invalid args into func#1 ('f')"), "invalid access to packet, ..."
// (then "R2 offset is outside of the packet").
//
// The log at level 1 and above traces each instruction as it is checked,
// in the kernel's "12: (bf) r1 = addr_space_cast(r2, 0, 1)" form with the
// source lines ("; return *p; @ prog.c:31"), without the register states
// the kernel adds.
package verifier
