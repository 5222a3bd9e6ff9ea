package vm

import (
	"errors"
	"testing"

	"github.com/bpfarena/bpfarena/asm"
)

// TestRunRaw: bare instruction streams with r1/r2 describing a buffer,
// caller-given helpers and a budget.
func TestRunRaw(t *testing.T) {
	errHelper := errors.New("helper failed")
	helpers := map[int32]RawHelper{
		5: func(r1, _, _, _, _ uint64) (uint64, error) { return r1, nil },
		6: func(_, _, _, _, _ uint64) (uint64, error) { return 0, errHelper },
	}
	tests := []struct {
		name    string
		insns   []asm.Instruction
		mem     []byte
		want    uint64
		wantMem []byte
		err     error // nil: success; otherwise errors.Is target
	}{
		{name: "r2 is the length", insns: []asm.Instruction{mov64X(0, 2), exit()}, mem: make([]byte, 5), want: 5},
		{name: "load and store", insns: []asm.Instruction{ldx(bpfB, 0, 1, 1), st(bpfB, 1, 0, 9), exit()},
			mem: []byte{1, 2}, want: 2, wantMem: []byte{9, 2}},
		{name: "helper", insns: []asm.Instruction{mov64K(1, 77), call(5), exit()}, want: 77},
		{name: "helper error", insns: []asm.Instruction{call(6), exit()}, err: errHelper},
		{name: "budget", insns: []asm.Instruction{raw(0x05, 0, 0, -1, 0), exit()}, err: ErrBudget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RunRaw(tt.insns, tt.mem, RawOptions{Helpers: helpers, InsnBudget: 1000})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("r0 = %d, %v; want %d", got, err, tt.want)
			}
			if tt.wantMem != nil && string(tt.mem) != string(tt.wantMem) {
				t.Fatalf("mem = %v, want %v", tt.mem, tt.wantMem)
			}
		})
	}
}
