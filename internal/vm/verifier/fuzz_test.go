package verifier

import (
	"testing"

	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

// FuzzVerify feeds random instruction streams to Verify, which must never
// panic and must always finish. Map and kfunc relocations are attached
// to the instructions that would carry them, chosen by the input too.
func FuzzVerify(f *testing.F) {
	seeds := [][]ins{
		withArena(toArena(asm.R1, asm.R6), st(dw, asm.R1, 0, 1), movImm(asm.R0, 0), exit()),
		{movImm(asm.R0, 0), aluImm(asm.ALUAdd, asm.R0, 1), jgtImm(asm.R0, 100, 1), ja(-3), exit()},
		{movImm(asm.R1, 10), ldFunc(asm.R2, 6), mov(asm.R3, asm.R10), movImm(asm.R4, 0), helper(181), movImm(asm.R0, 0), exit(), st(dw, asm.R2, -8, 1), movImm(asm.R0, 0), exit()},
		{pcall(1), exit(), movImm(asm.R0, 0), exit()},
		{st(w, asm.R10, -4, 0), ldMap(asm.R1), mov(asm.R2, asm.R10), aluImm(asm.ALUAdd, asm.R2, -4), helper(1), jeqImm(asm.R0, 0, 2), ldx(dw, asm.R0, asm.R0, 0), exit(), movImm(asm.R0, 0), exit()},
	}
	for _, s := range seeds {
		f.Add(asm.Instructions(s).Encode(nil), uint8(0))
	}
	maps := []*object.MapSpec{testArena, testBSS, testHash, testRodata, testArena2}
	names := []string{"bpf_arena_alloc_pages", "bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy", "bpf_rcu_read_lock", "nope", "bpf_res_spin_lock", "bpf_local_irq_save"}
	f.Fuzz(func(t *testing.T, code []byte, choice uint8) {
		code = code[:len(code)/8*8]
		insns, err := asm.DecodeUnchecked(code)
		if err != nil || len(insns) > 4096 {
			return
		}
		rels := map[int]object.Relocation{}
		for i, in := range insns {
			c := int(choice) + i
			switch {
			case in.IsLoadImm64() && (in.Src == asm.PseudoMapFD || in.Src == asm.PseudoMapIdx):
				rels[i] = mapRel(maps[c%len(maps)])
			case in.IsLoadImm64() && (in.Src == asm.PseudoMapValue || in.Src == asm.PseudoMapIdxValue):
				m := maps[c%len(maps)]
				rels[i] = valRel(m, uint32(uint64(in.Constant)>>32))
			case in.IsKfuncCall():
				rels[i] = kfRel(names[c%len(names)])
			}
		}
		p := prog(insns, rels)
		p.Sleepable = choice&1 != 0
		p.Type = []object.ProgramType{object.Syscall, object.XDP, object.SchedCLS}[int(choice>>1)%3]
		res, err := Verify(p, Env{ArenaFixed: choice&8 == 0, LogLevel: uint32(choice>>4) & 1, StrictStack: choice&32 != 0})
		if err == nil && len(res.Access) != len(insns) {
			t.Fatalf("Access has %d entries for %d instructions", len(res.Access), len(insns))
		}
	})
}
