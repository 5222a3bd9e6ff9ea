package asm_test

import (
	"fmt"
	"os"

	"github.com/bpfarena/bpfarena/asm"
)

func ExampleInstruction_String() {
	code := []byte{
		0xbf, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, // addr_space_cast to the arena
		0x61, 0x10, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, // load a u32 from it
		0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // exit
	}
	insns, err := asm.Decode(code)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ins := range insns {
		fmt.Println(ins)
	}
	// Output:
	// r1 = addr_space_cast(r0, 0, 1)
	// r0 = *(u32 *)(r1 +4)
	// exit
}

func ExampleFormatter() {
	insns := asm.Instructions{
		{OpCode: asm.OpLoadImm64, Dst: asm.R1, Src: asm.PseudoMapValue, Constant: 5 | 8<<32},
		{OpCode: asm.OpCall, Src: asm.PseudoKfuncCall, Constant: 74383},
		{OpCode: asm.OpExit},
	}
	f := &asm.Formatter{
		Imm64: func(ins asm.Instruction) string {
			return fmt.Sprintf("map[arena][0]+%d", uint64(ins.Constant)>>32)
		},
		Kfunc: func(ins asm.Instruction) string { return "bpf_arena_alloc_pages" },
	}
	f.Program(os.Stdout, insns)
	// Output:
	// 0: (18) r1 = map[arena][0]+8
	// 2: (85) call bpf_arena_alloc_pages#74383
	// 3: (95) exit
}

func ExampleDecode_invalid() {
	// mov r1, r2 with a non-zero imm: a reserved field is set.
	_, err := asm.Decode([]byte{0xbf, 0x21, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00})
	fmt.Println(err)
	// Output:
	// asm: instruction at byte 0 (opcode 0xbf): imm: imm must be 0 (got 7)
}

func ExampleAssemble() {
	insns, err := asm.Assemble(`
		r1 = addr_space_cast(r1, 0, 1)
		r0 = *(u64 *)(r1 +8)
		exit
	`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", insns.Encode(nil))
	// Output:
	// bf 11 01 00 01 00 00 00 79 10 08 00 00 00 00 00 95 00 00 00 00 00 00 00
}
