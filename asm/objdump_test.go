package asm

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The objdump comparison checks that this package and llvm-objdump-19 agree
// on every instruction of every BPF object in the repository, plus a few
// compiled here so that the check has input of every kind: same bytes at
// the same slot, and the same meaning once both spellings are normalised.

const objdumpTool = "llvm-objdump-19"

// snippets are compiled at test time with clang-19. Together they cover
// addr_space_cast both ways, every atomic, movsx, ldsx, sdiv/smod, bswap and
// le/be, gotol, may_goto, jmp32, ld_imm64, legacy packet loads, helper and
// subprogram calls.
var snippets = map[string]string{
	"arena.c": `
#define __arena __attribute__((address_space(1)))
struct node { struct node __arena *next; long v; };
struct node __arena *head;
long counter;
int sink;
__attribute__((section("syscall"), used))
int walk(void *ctx)
{
	struct node __arena *n = head;
	long s = 0;
	for (int i = 0; i < 100 && n; i++) {
		s += n->v;
		n = n->next;
	}
	__sync_fetch_and_add(&counter, 1);
	long old = __sync_fetch_and_add(&counter, 2);
	__sync_fetch_and_or(&counter, 4);
	long o2 = __sync_fetch_and_xor(&counter, 8);
	long o3 = __sync_lock_test_and_set(&counter, 9);
	long o4 = __sync_val_compare_and_swap(&counter, 3, 7);
	int o5 = __sync_fetch_and_and(&sink, 3);
	signed char c = *(volatile signed char *)ctx;
	short h = *(volatile short *)ctx;
	int w = *(volatile int *)ctx;
	s += c + h + w + old + o2 + o3 + o4 + o5;
	s = s / (long)c;
	s = s % (long)h;
	s += __builtin_bswap16((unsigned short)s) + __builtin_bswap32((unsigned)s) + __builtin_bswap64(s);
	s += (long)(signed char)s + (long)(short)w + (long)(int)s;
	return s;
}
`,
	"forms.c": `
extern void *bpf_arena_alloc_pages(void *map, void __attribute__((address_space(1))) *addr,
	unsigned int page_cnt, int node_id, unsigned long long flags) __attribute__((section(".ksyms")));
static long (*ktime)(void) = (void *)5;
__attribute__((noinline)) int sub(int x) { return x * 3 + 1; }
int out;
__attribute__((section("syscall"), used))
int forms(void *ctx)
{
	asm volatile(
		"r1 = addr_space_cast(r2, 1, 0);"
		"r1 = addr_space_cast(r2, 0, 1);"
		"gotol +1;"
		"r0 = 0;"
		"r0 = be16 r0; r0 = le32 r0; r0 = be64 r0; r0 = le16 r0;"
		"r0 = -r0; w0 = -w0;"
		"*(u32 *)(r10 - 8) = 5;"
		"*(u64 *)(r10 - 16) = -1;"
		"*(u8 *)(r10 - 1) = w1;"
		"*(u16 *)(r10 - 2) = w1;"
		"lock *(u32 *)(r10 - 8) += w1;"
		"lock *(u64 *)(r10 - 16) &= r1;"
		"lock *(u64 *)(r10 - 16) ^= r1;"
		"w0 = xchg32_32(r10 - 8, w0);"
		"w0 = cmpxchg32_32(r10 - 8, w0, w1);"
		"w1 = atomic_fetch_or((u32 *)(r10 - 8), w1);"
		"w1 = atomic_fetch_add((u32 *)(r10 - 8), w1);"
		"r1 = atomic_fetch_and((u64 *)(r10 - 16), r1);"
		"if w1 s< w2 goto +0;"
		"if r1 & 0x3 goto +0;"
		"if w1 <= -1 goto +0;"
		"if r1 s>= r2 goto -1;"
		"r0 = 0x123456789 ll;"
		"r0 = -1 ll;"
		"r1 s>>= 3; w1 s>>= w2; r1 <<= 63; w1 >>= 31;"
		"w1 s/= 3; r1 s%%= -2; r1 /= r2; w1 %%= 7; r1 *= r3; w1 |= 0x7fffffff; r1 &= -2147483648;"
		"r1 = (s8)r2; r1 = (s16)r2; w1 = (s8)w2;"
		"r1 = *(u8 *)(r2 + 32767); r1 = *(u16 *)(r2 - 32768); w1 = *(u32 *)(r2 + 4);"
		"may_goto +1;"
		"r0 = 1;"
		::: "r0", "r1", "r2", "r3");
	out = sub(out);
	bpf_arena_alloc_pages(0, 0, 1, -1, 0);
	return ktime();
}
`,
	"packet.c": `
__attribute__((section("socket"), used))
int packet(void *skb)
{
	asm volatile("r6 = r1; r0 = *(u8 *)skb[1]; r0 = *(u16 *)skb[r6]; r0 = *(u32 *)skb[r6];"
		".8byte 0x00000100000010db;" /* r0 = load_acquire((u64 *)(r1 +0)) */
		".8byte 0x00000110000021cb;" /* store_release((u16 *)(r1 +0), r2) */
		::: "r0", "r6");
	return 0;
}
`,
}

func TestObjdumpAgreement(t *testing.T) {
	if _, err := exec.LookPath(objdumpTool); err != nil {
		t.Skipf("%s not on PATH", objdumpTool)
	}
	var objects []string
	if _, err := exec.LookPath("clang-19"); err == nil {
		dir := t.TempDir()
		for name, src := range snippets {
			c := filepath.Join(dir, name)
			if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			o := strings.TrimSuffix(c, ".c") + ".bpf.o"
			out, err := exec.Command("clang-19", "-O2", "-g", "-target", "bpf", "-mcpu=v4", "-c", c, "-o", o).CombinedOutput()
			if err != nil {
				t.Fatalf("compiling %s: %v\n%s", name, err, out)
			}
			objects = append(objects, o)
		}
	} else {
		t.Log("clang-19 not on PATH: only the repository's objects are compared")
	}
	ours := len(objects)
	err := filepath.WalkDir(filepath.Join("..", "bpf"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".bpf.o") {
			objects = append(objects, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(objects) == 0 {
		t.Skip("no objects to compare")
	}
	for i, obj := range objects {
		strict := i < ours
		t.Run(filepath.Base(obj), func(t *testing.T) {
			compareObject(t, obj, strict)
		})
	}
}

// objdumpLine is one instruction as llvm-objdump lists it.
type objdumpLine struct {
	raw  []byte
	text string
}

var (
	sectionHeader = regexp.MustCompile(`^Disassembly of section (.*):$`)
	insnLine      = regexp.MustCompile(`^\s*(\d+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\s*\t(.*)$`)
)

// runObjdump returns llvm-objdump's instructions by section and slot.
func runObjdump(t *testing.T, obj string) map[string]map[int]objdumpLine {
	t.Helper()
	out, err := exec.Command(objdumpTool, "-d", "--mcpu=v4", obj).Output()
	if err != nil {
		t.Fatalf("%s -d %s: %v", objdumpTool, obj, err)
	}
	sections := make(map[string]map[int]objdumpLine)
	var cur map[int]objdumpLine
	for _, line := range strings.Split(string(out), "\n") {
		if m := sectionHeader.FindStringSubmatch(line); m != nil {
			cur = make(map[int]objdumpLine)
			sections[m[1]] = cur
			continue
		}
		m := insnLine.FindStringSubmatch(line)
		if m == nil || cur == nil {
			continue
		}
		slot, _ := strconv.Atoi(m[1])
		raw, err := hex.DecodeString(strings.ReplaceAll(m[2], " ", ""))
		if err != nil {
			t.Fatalf("bad bytes in %q: %v", line, err)
		}
		cur[slot] = objdumpLine{raw: raw, text: m[3]}
	}
	return sections
}

func compareObject(t *testing.T, obj string, strict bool) {
	f, err := elf.Open(obj)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := runObjdump(t, obj)
	compared := 0
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_PROGBITS || sec.Flags&elf.SHF_EXECINSTR == 0 || sec.Size == 0 {
			continue
		}
		data, err := sec.Data()
		if err != nil {
			t.Fatal(err)
		}
		lines, ok := listed[sec.Name]
		if !ok {
			t.Errorf("section %s: %s lists no instructions", sec.Name, objdumpTool)
			continue
		}
		insns, err := Decode(data)
		if err != nil {
			// The corpus may hold deliberately invalid instructions for
			// verifier tests; they must still split and print.
			if strict {
				t.Errorf("section %s: %v", sec.Name, err)
			} else {
				t.Logf("section %s: %v", sec.Name, err)
			}
			if insns, err = DecodeUnchecked(data); err != nil {
				t.Errorf("section %s: %v", sec.Name, err)
				continue
			}
		}
		if len(lines) != len(insns) {
			t.Errorf("section %s: %s lists %d instructions, we decode %d", sec.Name, objdumpTool, len(lines), len(insns))
		}
		for i, slot := range insns.Offsets() {
			ins := insns[i]
			line, ok := lines[slot]
			if !ok {
				t.Errorf("%s slot %d: %s lists nothing here; we decode %q", sec.Name, slot, objdumpTool, ins)
				continue
			}
			if enc := ins.Encode(nil); !bytes.Equal(enc, line.raw) {
				t.Errorf("%s slot %d: bytes % x, %s shows % x", sec.Name, slot, enc, objdumpTool, line.raw)
				continue
			}
			if reason := llvmBlindSpot(ins, line.text); reason != "" {
				t.Logf("%s slot %d: not compared (%s): we print %q, %s %q", sec.Name, slot, reason, ins, objdumpTool, line.text)
				continue
			}
			ours, theirs := normalize(ins, ins.String()), normalize(ins, line.text)
			if ours != theirs {
				t.Errorf("%s slot %d (% x): we print %q, %s prints %q (normalised %q vs %q)",
					sec.Name, slot, line.raw, ins, objdumpTool, line.text, ours, theirs)
			}
			compared++
		}
	}
	t.Logf("%s: %d instructions agree", obj, compared)
}

// llvmBlindSpot names the instructions llvm-objdump-19 cannot spell:
// load-acquire and store-release arrived in LLVM 20, and version 19 shows
// them as a plain atomic add or as <unknown>.
func llvmBlindSpot(ins Instruction, text string) string {
	if text == "<unknown>" {
		return "unknown to " + objdumpTool
	}
	if ins.IsAtomic() && (ins.AtomicOp() == AtomicLoadAcquire || ins.AtomicOp() == AtomicStoreRelease) {
		return "load-acquire/store-release postdate " + objdumpTool
	}
	return ""
}

var (
	labelSuffix = regexp.MustCompile(`\s+<[^<>]*>$`)
	wideSuffix  = regexp.MustCompile(`\s+ll$`)
	space       = regexp.MustCompile(`\s+`)
	wReg        = regexp.MustCompile(`\bw(\d+)\b`)
	number      = regexp.MustCompile(`(^|[^a-z0-9_])(-?)(0x[0-9a-f]+|[0-9]+)`)
	callName    = regexp.MustCompile(`^call[^#]*#(-?\d+)$`)
	skbReg      = regexp.MustCompile(`skb\[(r\d+)\]`)
	xchg        = regexp.MustCompile(`^(r\d+)=xchg(32)?_(32|64)\((r\d+)([+-]\d+),(r\d+)\)$`)
	cmpxchg     = regexp.MustCompile(`^r0=cmpxchg(32)?_(32|64)\((r\d+)([+-]\d+),r0,(r\d+)\)$`)
	fetch64     = regexp.MustCompile(`atomic_fetch_(\w+)\(\(u64\*\)`)
)

// normalize reduces either spelling of ins to one canonical text: no
// spaces, numbers in decimal with the signedness of the field, the pc
// prefix and labels dropped, llvm's atomic names mapped to the kernel's, and
// the 32-bit register names llvm uses for memory operands made 64-bit, as
// the kernel always prints them.
func normalize(ins Instruction, s string) string {
	s = labelSuffix.ReplaceAllString(s, "")
	s = wideSuffix.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "pc+", "+")
	s = strings.ReplaceAll(s, "pc-", "-")
	if ins.Class().IsLoadStore() {
		s = wReg.ReplaceAllString(s, "r$1")
	}
	s = number.ReplaceAllStringFunc(s, func(m string) string {
		sub := number.FindStringSubmatch(m)
		base, digits := 10, sub[3]
		if strings.HasPrefix(digits, "0x") {
			base, digits = 16, digits[2:]
		}
		v, err := strconv.ParseUint(digits, base, 64)
		if err != nil {
			return m
		}
		n := int64(v)
		if sub[2] == "-" {
			n = -n
		}
		// The kernel prints some fields unsigned in hex; llvm prints them
		// signed. Reduce both to the field's own width.
		switch {
		case ins.IsLoadImm64():
		case ins.Class().IsJump():
			n = int64(int32(n))
		}
		return sub[1] + strconv.FormatInt(n, 10)
	})
	s = space.ReplaceAllString(s, "")
	if m := callName.FindStringSubmatch(s); m != nil {
		s = "call" + m[1]
	}
	// A subprogram call is "call pc+N" in the kernel's spelling and
	// "call N" in llvm's.
	s = strings.Replace(s, "call+", "call", 1)
	s = skbReg.ReplaceAllString(s, "skb[$1+0]")
	if m := xchg.FindStringSubmatch(s); m != nil {
		s = fmt.Sprintf("%s=%s_xchg((%s*)(%s%s),%s)", m[1], atomicWidth(m[3]), "u"+m[3], m[4], m[5], m[6])
	}
	if m := cmpxchg.FindStringSubmatch(s); m != nil {
		s = fmt.Sprintf("r0=%s_cmpxchg((%s*)(%s%s),r0,%s)", atomicWidth(m[2]), "u"+m[2], m[3], m[4], m[5])
	}
	s = fetch64.ReplaceAllString(s, "atomic64_fetch_$1((u64*)")
	return s
}

func atomicWidth(bits string) string {
	if bits == "64" {
		return "atomic64"
	}
	return "atomic"
}

// TestNormalize keeps the comparison honest: equivalent spellings meet,
// different meanings stay apart.
func TestNormalize(t *testing.T) {
	jgt := Instruction{OpCode: JumpOpCode(ClassJMP32, JumpJLE, SourceK), Dst: R1, Offset: 2, Constant: -1}
	add := Instruction{OpCode: ALUOpCode(ClassALU, ALUAdd, SourceK), Dst: R1, Constant: 5}
	ldx := Instruction{OpCode: MemOpCode(ClassLDX, ModeMEM, SizeW), Dst: R1, Src: R2, Offset: -8}
	wide := Instruction{OpCode: OpLoadImm64, Dst: R0, Constant: -1}
	xchg := Instruction{OpCode: MemOpCode(ClassSTX, ModeATOMIC, SizeW), Dst: R10, Src: R0, Offset: -8, Constant: int64(AtomicXchg)}
	tests := []struct {
		ins  Instruction
		llvm string
		same bool
	}{
		{jgt, "if w1 <= -0x1 goto +0x2 <LBB0_3>", true},
		{jgt, "if w1 <= 0x1 goto +0x2 <LBB0_3>", false},
		{jgt, "if r1 <= -0x1 goto +0x2 <LBB0_3>", false},
		{add, "w1 += 0x5", true},
		{add, "r1 += 0x5", false},
		{add, "w1 -= 0x5", false},
		{ldx, "w1 = *(u32 *)(r2 - 0x8)", true},
		{ldx, "w1 = *(u32 *)(r2 + 0x8)", false},
		{wide, "r0 = -0x1 ll", true},
		{wide, "r0 = 0xffffffff ll", false},
		{xchg, "w0 = xchg32_32(r10 - 0x8, w0)", true},
		{xchg, "w0 = xchg32_32(r10 - 0x8, w1)", false},
	}
	for _, tt := range tests {
		ours, theirs := normalize(tt.ins, tt.ins.String()), normalize(tt.ins, tt.llvm)
		if (ours == theirs) != tt.same {
			t.Errorf("%q vs %q: normalised %q and %q, want same=%v", tt.ins, tt.llvm, ours, theirs, tt.same)
		}
	}
}
