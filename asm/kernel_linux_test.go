package asm

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// progLoadAttr is the head of union bpf_attr for BPF_PROG_LOAD, as far as
// this test needs it.
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
}

const (
	bpfProgLoad          = 5
	progTypeSocketFilter = 1
	kernelCheckLogSize   = 1 << 16
	kernelCheckNeedsRoot = "loading programs needs root"
	kernelCheckNoBPF     = "bpf(2) unavailable"
)

// loadSocketFilter asks the running kernel to verify code and returns the
// verifier log and the error of BPF_PROG_LOAD.
func loadSocketFilter(t *testing.T, code []byte) (string, error) {
	return loadSocketFilterLog(t, code, 1, kernelCheckLogSize)
}

// loadSocketFilterLog is loadSocketFilter with a chosen log level; level 2
// logs every instruction, also when the program is accepted.
func loadSocketFilterLog(t *testing.T, code []byte, level uint32, size int) (string, error) {
	t.Helper()
	license := []byte("GPL\x00")
	logBuf := make([]byte, size)
	attr := progLoadAttr{
		progType: progTypeSocketFilter,
		insnCnt:  uint32(len(code) / InstructionSize),
		insns:    uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
		logLevel: level,
		logSize:  uint32(len(logBuf)),
		logBuf:   uint64(uintptr(unsafe.Pointer(&logBuf[0]))),
	}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, bpfProgLoad, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	// A signal during verification makes the load fail with EAGAIN or
	// EINTR; the kernel expects the caller to try again.
	for errno == unix.EAGAIN || errno == unix.EINTR {
		fd, _, errno = unix.Syscall(unix.SYS_BPF, bpfProgLoad, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	}
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	runtime.KeepAlive(logBuf)
	log := string(logBuf)
	if i := strings.IndexByte(log, 0); i >= 0 {
		log = log[:i]
	}
	if errno != 0 {
		return log, errno
	}
	unix.Close(int(fd))
	return log, nil
}

// TestKernelAgreesOnInvalid loads each invalid encoding of TestDecodeInvalid
// (those that name a verifier message) into the running kernel, followed
// by "r0 = 0; exit", and checks that the kernel rejects it with the message
// DecodeError.Verifier predicts.
func TestKernelAgreesOnInvalid(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip(kernelCheckNeedsRoot)
	}
	requireDecodeKernel(t)
	probe := cat(slot(0xb7, 0, 0, 0, 0), slot(0x95, 0, 0, 0, 0))
	if _, err := loadSocketFilter(t, probe); err != nil {
		t.Skipf("%s: %v", kernelCheckNoBPF, err)
	}
	tail := cat(slot(0xb7, 0, 0, 0, 0), slot(0x95, 0, 0, 0, 0))
	for _, tt := range invalidEncodings {
		if tt.verifier == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode: %v", err)
			}
			// Only the offending instruction matters; a truncated
			// ld_imm64 stays the last slot so the kernel sees it too.
			code := tt.in[de.Offset:]
			switch {
			case code[0] == byte(OpExit):
				// Nothing may follow an exit: it would be unreachable.
				code = cat(slot(0xb7, 0, 0, 0, 0), code)
			case de.Field == "second slot" && len(code) == 8:
			default:
				code = cat(code, tail)
			}
			log, err := loadSocketFilter(t, code)
			if err == nil {
				t.Fatalf("kernel accepted % x", code)
			}
			if !strings.Contains(log, tt.verifier+"\n") {
				t.Errorf("kernel log for % x does not contain %q:\n%s", code, tt.verifier, log)
			}
		})
	}
}

// TestKernelAcceptsValid loads instructions that Decode accepts and whose
// operands are defined in a fresh socket filter, so the only reason for the
// kernel to refuse would be the encoding itself.
func TestKernelAcceptsValid(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip(kernelCheckNeedsRoot)
	}
	requireDecodeKernel(t)
	// r2 = 8; r3 = r10; r3 += -8; *(u64 *)(r10 -8) = 0 make r2, r3 and the
	// stack slot usable by the instruction under test.
	head := cat(slot(0xb7, 2, 0, 0, 8), slot(0xbf, 3, 10, 0, 0), slot(0x07, 3, 0, 0, -8), slot(0x7a, 10, 0, -8, 0))
	tail := cat(slot(0xb7, 0, 0, 0, 0), slot(0x95, 0, 0, 0, 0))
	tests := []struct {
		name string
		in   []byte
	}{
		{"movsx8", slot(0xbf, 1, 2, 8, 0)},
		{"movsx16 alu32", slot(0xbc, 1, 2, 16, 0)},
		{"movsx32", slot(0xbf, 1, 2, 32, 0)},
		{"sdiv reg", slot(0x3f, 2, 2, 1, 0)},
		{"smod imm", slot(0x97, 2, 0, 1, 3)},
		{"bswap64", slot(0xd7, 2, 0, 0, 64)},
		{"be16", slot(0xdc, 2, 0, 0, 16)},
		{"neg32", slot(0x84, 2, 0, 0, 0)},
		{"ldsx stack", slot(0x91, 1, 10, -8, 0)},
		{"st imm", slot(0x62, 10, 0, -8, 5)},
		{"lock add", slot(0xdb, 3, 2, 0, 0x00)},
		{"fetch xor", slot(0xdb, 3, 2, 0, 0xa1)},
		{"xchg32", slot(0xc3, 3, 2, 0, 0xe1)},
		{"cmpxchg", cat(slot(0xb7, 0, 0, 0, 0), slot(0xdb, 3, 2, 0, 0xf1))},
		{"load acquire u8", slot(0xd3, 1, 3, 0, 0x100)},
		{"store release u16", slot(0xcb, 3, 2, 0, 0x110)},
		{"jmp32 reg", slot(0xce, 2, 2, 0, 0)},
		{"gotol", slot(0x06, 0, 0, 0, 0)},
		{"may_goto", slot(0xe5, 0, 0, 0, 0)},
		{"exit off ignored", cat(slot(0xb7, 0, 0, 0, 0), slot(0x95, 0, 0, 7, 0))},
		{"ld_imm64", cat(slot(0x18, 1, 0, 0, 1), slot(0, 0, 0, 0, 2))},
		{"helper call", slot(0x85, 0, 0, 0, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.in); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			code := cat(head, tt.in, tail)
			if last := tt.in[len(tt.in)-8]; last == byte(OpExit) {
				code = cat(head, tt.in)
			}
			if log, err := loadSocketFilter(t, code); err != nil {
				t.Errorf("kernel rejected % x: %v\n%s", tt.in, err, log)
			}
		})
	}
}

// structuralMessages are the verifier's complaints about an encoding, as
// opposed to what a program does. Decode must reject exactly the
// instructions the kernel rejects with one of these.
var structuralMessages = []string{
	"unknown opcode",
	"uses reserved fields",
	"invalid atomic operand size",
	"BPF_ATOMIC uses invalid atomic opcode",
	"invalid may_goto imm",
	"addr_space_cast insn can only convert between address space 1 and 0",
	"unrecognized bpf_ld_imm64 insn",
	"invalid bpf_ld_imm64 insn",
	"invalid BPF_LD_IMM insn",
	"invalid BPF_ALU opcode",
	"invalid BPF_JMP/JMP32 opcode",
	"invalid BPF_LD mode",
}

var invalidRegister = regexp.MustCompile(`^R\d+ is invalid$`)

func structuralLine(log string) string {
	for _, line := range strings.Split(log, "\n") {
		if invalidRegister.MatchString(line) {
			return line
		}
		for _, m := range structuralMessages {
			if strings.Contains(line, m) {
				return line
			}
		}
	}
	return ""
}

// TestKernelSweep tries every opcode with a spread of register, offset and
// imm values on the running kernel. When the kernel names a structural
// problem, Decode must reject the instruction with the same message; when
// the kernel accepts the program, Decode must accept the instruction.
func TestKernelSweep(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip(kernelCheckNeedsRoot)
	}
	requireDecodeKernel(t)
	if testing.Short() {
		t.Skip("thousands of program loads")
	}
	probe := cat(slot(0xb7, 0, 0, 0, 0), slot(0x95, 0, 0, 0, 0))
	if _, err := loadSocketFilter(t, probe); err != nil {
		t.Skipf("%s: %v", kernelCheckNoBPF, err)
	}
	// r1 = ctx; r2 = 8; r3 = fp-8 with the slot written: operands that
	// exist for any instruction under test.
	head := cat(slot(0xb7, 2, 0, 0, 8), slot(0xbf, 3, 10, 0, 0), slot(0x07, 3, 0, 0, -8), slot(0x7a, 10, 0, -8, 0))
	var tail []byte
	for i := 0; i < 40; i++ {
		tail = append(tail, slot(0xb7, 0, 0, 0, 0)...)
	}
	tail = append(tail, slot(0x95, 0, 0, 0, 0)...)
	regs := []struct{ dst, src uint8 }{{0, 0}, {2, 0}, {2, 3}, {3, 2}, {11, 0}, {2, 12}, {0, 1}, {0, 2}}
	offs := []int16{0, 1, 8, 16, 32, -1}
	imms := []int32{0, 1, 16, 32, 64, 0x41, 0x51, 0xe1, 0xf1, 0x100, 0x110, 1 << 16, -1}
	accepted, rejected, printedRejected := 0, 0, 0
	fmtOp := &Formatter{OpCode: true}
	var valid [][]byte
	// One report per opcode and kind of disagreement keeps a systematic
	// difference readable.
	seen := make(map[string]bool)
	report := func(op int, key string, format string, args ...any) {
		k := fmt.Sprintf("%02x %s", op, key)
		if !seen[k] {
			seen[k] = true
			t.Errorf(format, args...)
		}
	}
	// Every register pair with plain and with set off/imm, and every off
	// and imm pairing with the two common register shapes: enough to meet
	// each rule, a fraction of the full product.
	type fields struct {
		dst, src uint8
		off      int16
		imm      int32
	}
	var combos []fields
	for _, r := range regs {
		combos = append(combos, fields{r.dst, r.src, 0, 0}, fields{r.dst, r.src, 1, 1})
	}
	for _, r := range regs[1:3] {
		for _, off := range offs {
			for _, imm := range imms {
				combos = append(combos, fields{r.dst, r.src, off, imm})
			}
		}
	}
	for op := 0; op < 256; op++ {
		for _, c := range combos {
			in := slot(uint8(op), c.dst, c.src, c.off, c.imm)
			if op == int(OpLoadImm64) {
				in = cat(in, slot(0, 0, 0, 0, 0))
			}
			_, decErr := Decode(in)
			code := cat(head, in, tail)
			log, loadErr := loadSocketFilter(t, code)
			line := structuralLine(log)
			// A rejected program's log shows every instruction the walk
			// reached, whatever stopped it: invalid ones included, they
			// must print as the kernel prints them.
			if text, ok := logLine(log, len(head)/InstructionSize); ok {
				raw, err := DecodeUnchecked(in)
				if err != nil {
					t.Fatal(err)
				}
				if !kernelSpellsAsEncoded(raw[0]) {
				} else if want := fmtOp.Format(raw[0]); text != want {
					report(op, "print", "% x: kernel prints %q, Formatter %q", in, text, want)
				} else {
					printedRejected++
				}
			}
			var de *DecodeError
			switch {
			case loadErr == nil:
				accepted++
				valid = append(valid, in)
				if decErr != nil {
					report(op, "accept", "% x: kernel accepts, Decode says %v", in, decErr)
				}
			case line != "":
				rejected++
				_, logged := logLine(log, len(head)/InstructionSize)
				if errors.As(decErr, &de) && de.Early == logged {
					report(op, "early"+line, "% x: kernel logged the instruction: %v, DecodeError.Early: %v (%v)", in, logged, de.Early, decErr)
				}
				if !errors.As(decErr, &de) {
					report(op, line, "% x: kernel says %q, Decode accepts", in, line)
				} else if !strings.HasSuffix(line, de.Verifier) || de.Verifier == "" {
					report(op, line+de.Verifier, "% x: kernel says %q, Decode predicts %q (%v)", in, line, de.Verifier, decErr)
				}
			}
		}
	}
	t.Logf("%d programs accepted, %d rejected for their encoding; %d rejected programs logged the instruction as Formatter prints it", accepted, rejected, printedRejected)
	comparePrinting(t, head, tail, valid)
}

// logInsn matches an instruction line of the verifier log; register state
// may follow after "; " or, on a revisited instruction, after its index.
var logInsn = regexp.MustCompile(`^(\d+): (BUG_\w+|\([0-9a-f]{2}\) .*?)(\s+(; |\d+: ).*)?$`)

// kernelSpellsAsEncoded reports whether the verifier log shows ins from its
// encoding alone. It logs the value it resolved for a pseudo ld_imm64 (a
// map or ksym address), and the BTF name of a kfunc.
func kernelSpellsAsEncoded(ins Instruction) bool {
	return !(ins.IsLoadImm64() && ins.Src != 0) && !ins.IsKfuncCall()
}

// logLine returns the verifier's text for the instruction at index.
func logLine(log string, index int) (string, bool) {
	want := strconv.Itoa(index)
	for _, line := range strings.Split(log, "\n") {
		if m := logInsn.FindStringSubmatch(line); m != nil && m[1] == want {
			return m[2], true
		}
	}
	return "", false
}

// comparePrinting loads each instruction again at log level 2 and checks
// that the verifier's line for it is what Formatter prints.
func comparePrinting(t *testing.T, head, tail []byte, insns [][]byte) {
	t.Helper()
	f := &Formatter{OpCode: true}
	seen := make(map[OpCode]bool)
	compared, skipped := 0, 0
	for _, in := range insns {
		ins, _, err := DecodeOne(in)
		if err != nil {
			t.Fatal(err)
		}
		if !kernelSpellsAsEncoded(ins) {
			skipped++
			continue
		}
		log, err := loadSocketFilterLog(t, cat(head, in, tail), 2, 1<<14)
		if err != nil {
			t.Errorf("% x: accepted once, now %v", in, err)
			continue
		}
		text, ok := logLine(log, len(head)/InstructionSize)
		switch {
		case !ok:
			t.Errorf("% x: instruction missing from the verifier log:\n%s", in, log)
		case text == f.Format(ins):
			compared++
		case !seen[ins.OpCode]:
			seen[ins.OpCode] = true
			t.Errorf("% x: kernel prints %q, Formatter %q", in, text, f.Format(ins))
		}
	}
	t.Logf("%d accepted instructions printed as the kernel does, %d left out as resolved by the kernel", compared, skipped)
}

// TestKernelIgnoresDeadInvalid pins down why DecodeUnchecked exists: the
// kernel checks most fields only where its walk goes, so it accepts a
// program whose invalid instruction sits in code it proves dead. Decode
// judges every instruction and rejects the program; a loader that must
// take what the kernel takes splits with DecodeUnchecked and validates the
// non-Early problems as it walks.
func TestKernelIgnoresDeadInvalid(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip(kernelCheckNeedsRoot)
	}
	requireDecodeKernel(t)
	code := cat(
		slot(0xb7, 0, 0, 0, 0), // r0 = 0
		slot(0x15, 0, 0, 1, 0), // if r0 == 0x0 goto pc+1
		slot(0xbf, 1, 2, 0, 5), // r1 = r2 with imm 5: reserved field set, never reached
		slot(0x95, 0, 0, 0, 0), // exit
	)
	if log, err := loadSocketFilter(t, code); err != nil {
		t.Skipf("kernel rejects dead invalid code after all (%v):\n%s", err, log)
	}
	var de *DecodeError
	if _, err := Decode(code); !errors.As(err, &de) || de.Early {
		t.Fatalf("Decode = %v, want a late DecodeError", err)
	}
	insns, err := DecodeUnchecked(code)
	if err != nil || len(insns) != 4 {
		t.Fatalf("DecodeUnchecked = %v, %v", insns, err)
	}
}

// requireDecodeKernel skips checks of Decode against the running kernel
// where that kernel is not the one whose instruction set and messages
// the decoder reproduces (Linux 6.18; 6.12 lacks load-acquire, 7.3 checks
// registers before reserved fields).
func requireDecodeKernel(t *testing.T) {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Skip(err)
	}
	rel := unix.ByteSliceToString(u.Release[:])
	if !strings.HasPrefix(rel, "6.18.") && rel != "6.18" {
		t.Skipf("the decoder's messages are Linux 6.18's; this kernel is %s", rel)
	}
}
