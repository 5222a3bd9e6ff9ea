package asm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// slot encodes one 8-byte slot from its raw fields.
func slot(op uint8, dst, src uint8, off int16, imm int32) []byte {
	b := make([]byte, 8)
	b[0] = op
	b[1] = dst&0xf | src<<4
	binary.LittleEndian.PutUint16(b[2:], uint16(off))
	binary.LittleEndian.PutUint32(b[4:], uint32(imm))
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Instruction
	}{
		{"mov64 imm", slot(0xb7, 0, 0, 0, -5), Instruction{OpCode: 0xb7, Constant: -5}},
		{"addr_space_cast", slot(0xbf, 1, 2, 1, 1), Instruction{OpCode: 0xbf, Dst: 1, Src: 2, Offset: 1, Constant: 1}},
		{"addr_space_cast user", slot(0xbf, 1, 2, 1, 1<<16), Instruction{OpCode: 0xbf, Dst: 1, Src: 2, Offset: 1, Constant: 1 << 16}},
		{"movsx32", slot(0xbf, 1, 2, 32, 0), Instruction{OpCode: 0xbf, Dst: 1, Src: 2, Offset: 32}},
		{"movsx16 alu32", slot(0xbc, 1, 2, 16, 0), Instruction{OpCode: 0xbc, Dst: 1, Src: 2, Offset: 16}},
		{"sdiv imm", slot(0x37, 1, 0, 1, 3), Instruction{OpCode: 0x37, Dst: 1, Offset: 1, Constant: 3}},
		{"smod reg", slot(0x9c, 1, 2, 1, 0), Instruction{OpCode: 0x9c, Dst: 1, Src: 2, Offset: 1}},
		{"bswap64", slot(0xd7, 3, 0, 0, 64), Instruction{OpCode: 0xd7, Dst: 3, Constant: 64}},
		{"be16", slot(0xdc, 3, 0, 0, 16), Instruction{OpCode: 0xdc, Dst: 3, Constant: 16}},
		{"ldsx", slot(0x91, 1, 2, -3, 0), Instruction{OpCode: 0x91, Dst: 1, Src: 2, Offset: -3}},
		{"ld abs", slot(0x30, 0, 0, 0, 14), Instruction{OpCode: 0x30, Constant: 14}},
		{"ld ind", slot(0x40, 0, 7, 0, 2), Instruction{OpCode: 0x40, Src: 7, Constant: 2}},
		{"load acquire u8", slot(0xd3, 0, 1, 0, 0x100), Instruction{OpCode: 0xd3, Src: 1, Constant: 0x100}},
		{"store release u16", slot(0xcb, 1, 2, 0, 0x110), Instruction{OpCode: 0xcb, Dst: 1, Src: 2, Constant: 0x110}},
		{"cmpxchg", slot(0xdb, 1, 2, 0, 0xf1), Instruction{OpCode: 0xdb, Dst: 1, Src: 2, Constant: 0xf1}},
		{"kfunc call with module", slot(0x85, 0, 2, 3, 1234), Instruction{OpCode: 0x85, Src: 2, Offset: 3, Constant: 1234}},
		{"gotol", slot(0x06, 0, 0, 0, -100000), Instruction{OpCode: 0x06, Constant: -100000}},
		{"may_goto", slot(0xe5, 0, 0, 7, 0), Instruction{OpCode: 0xe5, Offset: 7}},
		{"exit ignores off", slot(0x95, 0, 0, 9, 0), Instruction{OpCode: 0x95, Offset: 9}},
		{"ld_imm64", cat(slot(0x18, 1, 0, 0, 0x5678), slot(0, 0, 0, 0, 0x1234)), Instruction{OpCode: 0x18, Dst: 1, Constant: 0x1234_0000_5678}},
		{"ld_imm64 negative low", cat(slot(0x18, 1, 0, 0, -1), slot(0, 0, 0, 0, 0)), Instruction{OpCode: 0x18, Dst: 1, Constant: 0xffffffff}},
		{"ld_imm64 map idx value", cat(slot(0x18, 9, 6, 0, 2), slot(0, 0, 0, 0, 64)), Instruction{OpCode: 0x18, Dst: 9, Src: 6, Constant: 2 | 64<<32}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			insns, err := Decode(tt.in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(insns) != 1 || insns[0] != tt.want {
				t.Fatalf("Decode = %+v, want %+v", insns, tt.want)
			}
			if got := insns.Encode(nil); !bytes.Equal(got, tt.in) {
				t.Errorf("Encode = % x, want % x", got, tt.in)
			}
			if insns[0].Size() != len(tt.in) {
				t.Errorf("Size = %d, want %d", insns[0].Size(), len(tt.in))
			}
		})
	}
}

// invalidEncodings are rejected by Decode; verifier is what Linux logs for
// them (checked against the running kernel by TestKernelAgreesOnInvalid).
var invalidEncodings = func() []invalidEncoding {
	good := slot(0xb7, 0, 0, 0, 0)
	return []invalidEncoding{
		{"unknown opcode", slot(0xe7, 0, 0, 0, 0), 0, "opcode", "unknown opcode e7"},
		{"unknown opcode later", cat(good, good, slot(0xff, 0, 0, 0, 0)), 16, "opcode", "unknown opcode ff"},
		{"ld imm32", slot(0x00, 0, 0, 0, 0), 0, "opcode", "unknown opcode 00"},
		{"ld abs dw", slot(0x38, 0, 0, 0, 0), 0, "opcode", "unknown opcode 38"},
		{"ldsx dw", slot(0x99, 1, 2, 0, 0), 0, "opcode", "unknown opcode 99"},
		{"st atomic", slot(0xda, 1, 0, 0, 0), 0, "opcode", "unknown opcode da"},
		{"neg reg", slot(0x8f, 1, 2, 0, 0), 0, "opcode", "unknown opcode 8f"},
		{"bswap reg", slot(0xdf, 1, 0, 0, 16), 0, "opcode", "unknown opcode df"},
		{"call jmp32", slot(0x86, 0, 0, 0, 1), 0, "opcode", "unknown opcode 86"},
		{"call reg", slot(0x8d, 0, 0, 0, 1), 0, "opcode", "unknown opcode 8d"},
		{"may_goto jmp32", slot(0xe6, 0, 0, 1, 0), 0, "opcode", "unknown opcode e6"},
		{"ja reg", slot(0x0d, 0, 0, 1, 0), 0, "opcode", "unknown opcode 0d"},
		{"src on K alu", slot(0x07, 1, 2, 0, 1), 0, "src", "BPF_ALU uses reserved fields"},
		{"off on add", slot(0x0f, 1, 2, 1, 0), 0, "off", "BPF_ALU uses reserved fields"},
		{"off 2 on div", slot(0x3f, 1, 2, 2, 0), 0, "off", "BPF_ALU uses reserved fields"},
		{"imm on X alu", slot(0x0f, 1, 2, 0, 1), 0, "imm", "BPF_ALU uses reserved fields"},
		{"src on mov imm", slot(0xb7, 1, 2, 0, 1), 0, "src", "BPF_MOV uses reserved fields"},
		{"off on mov imm", slot(0xb7, 1, 0, 8, 1), 0, "off", "BPF_MOV uses reserved fields"},
		{"imm on mov reg", slot(0xbf, 1, 2, 0, 5), 0, "imm", "BPF_MOV uses reserved fields"},
		{"movsx32 on alu32", slot(0xbc, 1, 2, 32, 0), 0, "off", "BPF_MOV uses reserved fields"},
		{"cast on alu32", slot(0xbc, 1, 2, 1, 1), 0, "off", "BPF_MOV uses reserved fields"},
		{"cast bad imm", slot(0xbf, 1, 2, 1, 2), 0, "imm", "addr_space_cast insn can only convert between address space 1 and 0"},
		{"movsx with imm", slot(0xbf, 1, 2, 8, 1), 0, "imm", "BPF_MOV uses reserved fields"},
		{"neg with imm", slot(0x87, 1, 0, 0, 1), 0, "imm", "BPF_NEG uses reserved fields"},
		{"end bad width", slot(0xd4, 1, 0, 0, 8), 0, "imm", "BPF_END uses reserved fields"},
		{"end with src", slot(0xd4, 1, 1, 0, 16), 0, "src", "BPF_END uses reserved fields"},
		{"dst r11", slot(0xb7, 11, 0, 0, 0), 0, "dst", "R11 is invalid"},
		{"src r15", slot(0xbf, 1, 15, 0, 0), 0, "src", "R15 is invalid"},
		{"ldx imm", slot(0x61, 1, 2, 0, 1), 0, "imm", "BPF_LDX uses reserved fields"},
		{"ldx mode abs", slot(0x21, 1, 2, 0, 0), 0, "mode", "BPF_LDX uses reserved fields"},
		{"ldsx dw imm", slot(0x99, 1, 2, 0, 1), 0, "imm", "BPF_LDX uses reserved fields"},
		{"ldx src r12", slot(0x61, 1, 12, 0, 0), 0, "src", "R12 is invalid"},
		{"st src", slot(0x62, 10, 1, -4, 1), 0, "src", "BPF_ST uses reserved fields"},
		{"stx imm", slot(0x63, 10, 1, -4, 1), 0, "imm", "BPF_STX uses reserved fields"},
		{"atomic bad op", slot(0xdb, 1, 2, 0, 0x10), 0, "imm", "BPF_ATOMIC uses invalid atomic opcode 10"},
		{"atomic add u8", slot(0xd3, 1, 2, 0, 0), 0, "opcode", "invalid atomic operand size"},
		{"call dst", slot(0x85, 1, 0, 0, 1), 0, "dst", "BPF_CALL uses reserved fields"},
		{"call src 3", slot(0x85, 0, 3, 0, 1), 0, "src", "BPF_CALL uses reserved fields"},
		{"helper call off", slot(0x85, 0, 0, 1, 1), 0, "off", "BPF_CALL uses reserved fields"},
		{"goto imm", slot(0x05, 0, 0, 0, 1), 0, "imm", "BPF_JA uses reserved fields"},
		{"gotol off", slot(0x06, 0, 0, 1, 0), 0, "off", "BPF_JA uses reserved fields"},
		{"goto dst", slot(0x05, 1, 0, 0, 0), 0, "dst", "BPF_JA uses reserved fields"},
		{"exit imm", slot(0x95, 0, 0, 0, 1), 0, "imm", "BPF_EXIT uses reserved fields"},
		{"exit dst", slot(0x95, 1, 0, 0, 0), 0, "dst", "BPF_EXIT uses reserved fields"},
		{"may_goto src", slot(0xe5, 0, 1, 1, 0), 0, "src", "invalid may_goto imm 0"},
		{"may_goto imm", slot(0xe5, 0, 0, 1, 3), 0, "imm", "invalid may_goto imm 3"},
		{"jeq X imm", slot(0x1d, 1, 2, 1, 1), 0, "imm", "BPF_JMP/JMP32 uses reserved fields"},
		{"jeq K src", slot(0x15, 1, 2, 1, 1), 0, "src", "BPF_JMP/JMP32 uses reserved fields"},
		{"jeq dst r11", slot(0x15, 11, 0, 1, 1), 0, "dst", "R11 is invalid"},
		{"jeq dst r11 and imm", slot(0x1d, 11, 2, 0, 1), 0, "dst", "R11 is invalid"},
		{"jeq X src r13", slot(0x1d, 1, 13, 0, 0), 0, "src", "R13 is invalid"},
		{"ld abs dst", slot(0x30, 1, 0, 0, 1), 0, "dst", "BPF_LD_[ABS|IND] uses reserved fields"},
		{"ld abs src", slot(0x30, 0, 1, 0, 1), 0, "src", "BPF_LD_[ABS|IND] uses reserved fields"},
		{"ld ind off", slot(0x40, 0, 1, 2, 1), 0, "off", "BPF_LD_[ABS|IND] uses reserved fields"},
		{"ld_imm64 off", cat(slot(0x18, 1, 0, 1, 0), slot(0, 0, 0, 0, 0)), 0, "off", "BPF_LD_IMM64 uses reserved fields"},
		{"ld_imm64 pseudo 7", cat(slot(0x18, 1, 7, 0, 0), slot(0, 0, 0, 0, 0)), 0, "src", "unrecognized bpf_ld_imm64 insn"},
		{"ld_imm64 second opcode", cat(good, slot(0x18, 1, 0, 0, 0), slot(0xb7, 0, 0, 0, 0)), 8, "second slot", "invalid bpf_ld_imm64 insn"},
		{"ld_imm64 second regs", cat(slot(0x18, 1, 0, 0, 0), slot(0, 1, 0, 0, 0)), 0, "second slot", "invalid bpf_ld_imm64 insn"},
		{"ld_imm64 second off", cat(slot(0x18, 1, 0, 0, 0), slot(0, 0, 0, 1, 0)), 0, "second slot", "invalid bpf_ld_imm64 insn"},
		{"ld_imm64 truncated", cat(good, slot(0x18, 1, 0, 0, 0)), 8, "second slot", "last insn is not an exit or jmp"},
		{"odd length", cat(good, []byte{0x95, 0, 0}), 8, "length", ""},
	}
}()

type invalidEncoding struct {
	name     string
	in       []byte
	offset   int
	field    string
	verifier string
}

func TestDecodeInvalid(t *testing.T) {
	for _, tt := range invalidEncodings {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			if err == nil {
				t.Fatal("Decode succeeded, want error")
			}
			if !errors.Is(err, ErrInvalidInstruction) {
				t.Errorf("errors.Is(%v, ErrInvalidInstruction) = false", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError", err)
			}
			if de.Offset != tt.offset || de.Field != tt.field || de.Verifier != tt.verifier {
				t.Errorf("got offset %d field %q verifier %q, want %d %q %q (%v)",
					de.Offset, de.Field, de.Verifier, tt.offset, tt.field, tt.verifier, err)
			}
		})
	}
}

func TestTruncated(t *testing.T) {
	for _, in := range [][]byte{
		{0x95},
		cat(slot(0x18, 1, 0, 0, 0)),
		cat(slot(0x95, 0, 0, 0, 0), []byte{1, 2, 3}),
	} {
		if _, err := Decode(in); !errors.Is(err, ErrTruncated) {
			t.Errorf("Decode(% x) = %v, want ErrTruncated", in, err)
		}
	}
	if _, _, err := DecodeOne(nil); !errors.Is(err, ErrTruncated) {
		t.Errorf("DecodeOne(nil) = %v, want ErrTruncated", err)
	}
}

func TestDecodeUnchecked(t *testing.T) {
	in := cat(slot(0xbf, 1, 2, 1, 2), slot(0x18, 1, 0, 0, 1), slot(0, 0, 0, 0, 2))
	if _, err := Decode(in); err == nil {
		t.Fatal("Decode accepted an invalid addr_space_cast")
	}
	insns, err := DecodeUnchecked(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(insns) != 2 || insns[1].Constant != 1|2<<32 {
		t.Fatalf("DecodeUnchecked = %+v", insns)
	}
	if got := insns.Encode(nil); !bytes.Equal(got, in) {
		t.Errorf("Encode = % x, want % x", got, in)
	}
	if err := insns[0].Validate(); !errors.Is(err, ErrInvalidInstruction) {
		t.Errorf("Validate = %v, want ErrInvalidInstruction", err)
	}
	if _, err := DecodeUnchecked(slot(0x18, 1, 0, 0, 0)); !errors.Is(err, ErrTruncated) {
		t.Errorf("DecodeUnchecked of a lone ld_imm64 = %v, want ErrTruncated", err)
	}
}

func TestValidateConstructed(t *testing.T) {
	tests := []struct {
		ins   Instruction
		field string
	}{
		{Instruction{OpCode: 0xb7, Constant: 1 << 40}, "imm"},
		{Instruction{OpCode: 0xb7, Dst: 16}, "dst"},
		{Instruction{OpCode: 0xbf, Src: 200}, "src"},
	}
	for _, tt := range tests {
		var de *DecodeError
		if err := tt.ins.Validate(); !errors.As(err, &de) || de.Field != tt.field {
			t.Errorf("Validate(%+v) = %v, want field %q", tt.ins, err, tt.field)
		}
	}
	if err := (Instruction{OpCode: OpLoadImm64, Constant: 1 << 40}).Validate(); err != nil {
		t.Errorf("Validate of a wide ld_imm64: %v", err)
	}
}

// TestRoundTripAllOpcodes sweeps every opcode with a spread of field values:
// whatever decodes must encode back to the same bytes and print without a
// BUG marker, since a valid instruction always has a kernel spelling.
func TestRoundTripAllOpcodes(t *testing.T) {
	offs := []int16{0, 1, 8, 16, 32, -1, 0x7fff}
	imms := []int32{0, 1, 16, 32, 64, 1 << 16, 0x100, 0x110, 0xf1, 0xe1, 0x41, -1}
	valid := 0
	for op := 0; op < 256; op++ {
		for regs := 0; regs < 256; regs += 17 {
			for _, off := range offs {
				for _, imm := range imms {
					in := slot(uint8(op), uint8(regs&0xf), uint8(regs>>4), off, imm)
					if op == int(OpLoadImm64) {
						in = cat(in, slot(0, 0, 0, 0, imm))
					}
					insns, err := Decode(in)
					if err != nil {
						continue
					}
					valid++
					if got := insns.Encode(nil); !bytes.Equal(got, in) {
						t.Fatalf("round trip of % x gave % x", in, got)
					}
					if s := insns[0].String(); len(s) >= 3 && s[:3] == "BUG" {
						t.Fatalf("valid % x prints as %q", in, s)
					}
				}
			}
		}
	}
	if valid == 0 {
		t.Fatal("nothing decoded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(slot(0xb7, 0, 0, 0, 0))
	f.Add(cat(slot(0x18, 1, 2, 0, 3), slot(0, 0, 0, 0, 8), slot(0x95, 0, 0, 0, 0)))
	f.Add(slot(0xbf, 1, 2, 1, 1))
	f.Add(slot(0xdb, 1, 2, 0, 0x100))
	f.Fuzz(func(t *testing.T, in []byte) {
		insns, err := Decode(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidInstruction) {
				t.Fatalf("error %v does not wrap ErrInvalidInstruction", err)
			}
			// Invalid instructions still split and print, as a verifier
			// log needs them to.
			raw, err := DecodeUnchecked(in)
			if err != nil {
				return
			}
			if got := raw.Encode(nil); !bytes.Equal(got, in) {
				t.Fatalf("unchecked round trip of % x gave % x", in, got)
			}
			f := Formatter{OpCode: true}
			for _, ins := range raw {
				_ = f.Format(ins)
			}
			return
		}
		if got := insns.Encode(nil); !bytes.Equal(got, in) {
			t.Fatalf("round trip of % x gave % x", in, got)
		}
		for _, ins := range insns {
			_ = ins.String()
			if err := ins.Validate(); err != nil {
				t.Fatalf("decoded instruction fails Validate: %v", err)
			}
		}
		if insns.SlotCount()*InstructionSize != len(in) {
			t.Fatalf("SlotCount %d for %d bytes", insns.SlotCount(), len(in))
		}
	})
}

func TestEarly(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		early bool
	}{
		{"unknown opcode", slot(0xe7, 0, 0, 0, 0), true},
		{"ldx mode", slot(0x21, 1, 2, 0, 0), true},
		{"ldx imm", slot(0x61, 1, 2, 0, 1), true},
		{"ld_imm64 pseudo 9", cat(slot(0x18, 1, 9, 0, 0), slot(0, 0, 0, 0, 0)), true},
		{"ld_imm64 second slot", cat(slot(0x18, 1, 0, 0, 0), slot(0, 0, 0, 1, 0)), true},
		{"ld_imm64 off", cat(slot(0x18, 1, 0, 1, 0), slot(0, 0, 0, 0, 0)), false},
		{"mov reserved", slot(0xbf, 1, 2, 0, 5), false},
		{"register", slot(0xb7, 11, 0, 0, 0), false},
		{"atomic op", slot(0xdb, 1, 2, 0, 0x10), false},
	}
	for _, tt := range tests {
		var de *DecodeError
		if _, err := Decode(tt.in); !errors.As(err, &de) || de.Early != tt.early {
			t.Errorf("%s: Decode = %v, want Early %v", tt.name, err, tt.early)
		}
	}
}
