package kernel

import "testing"

func TestLastLogLine(t *testing.T) {
	for _, tt := range []struct{ name, log, want string }{
		{"plain", "0: R1=ctx() R10=fp0\nR0 !read_ok\nprocessed 1 insns (limit 1000000)\n", "R0 !read_ok"},
		{"infinite loop", "1: (05) goto pc-1\ninfinite loop detected at insn 1\ncur state: R0=0 R10=fp0\nold state: R0=0 R10=fp0\nprocessed 9 insns (limit 1000000)\n",
			"infinite loop detected at insn 1"},
		{"7.x diagnosis", "R1 invalid mem access 'scalar'\nVerification failed: something\nmore\n", "R1 invalid mem access 'scalar'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastLogLine(tt.log); got != tt.want {
				t.Errorf("lastLogLine = %q, want %q", got, tt.want)
			}
		})
	}
}
