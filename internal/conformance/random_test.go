package conformance

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bpfarena/bpfarena"
	"github.com/bpfarena/bpfarena/asm"
	"github.com/bpfarena/bpfarena/object"
)

var (
	randomDuration = flag.Duration("random.duration", 20*time.Second, "how long TestRandomDifferential generates programs")
	randomSeed     = flag.Int64("random.seed", 0, "first seed of TestRandomDifferential (0: from the clock)")
	randomBody     = flag.Int("random.body", 0, "body items per random program (0: the default)")
	randomMax      = flag.Int("random.mismatches", 3, "kinds of mismatch TestRandomDifferential shrinks and prints")
	randomDisable  = flag.String("random.disable", "", "generator features to leave out, comma-separated (e.g. straddle,nodes)")
)

// TestRandomGenerator checks the generator alone, with no engine: every
// program encodes and decodes to itself, its jumps land on instructions
// and its relocations on the instructions that need them.
func TestRandomGenerator(t *testing.T) {
	for seed := int64(0); seed < 500; seed++ {
		spec := Generate(rand.New(rand.NewSource(seed)), GenConfig{Body: 20 + int(seed%100)})
		if err := checkGenerated(spec); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func checkGenerated(spec *object.Spec) error {
	if len(spec.Programs) != 1 || spec.Arena() == nil {
		return errors.New("want one program and an arena")
	}
	ps := spec.Programs[0]
	insns := ps.Instructions
	code := insns.Encode(nil)
	back, err := asm.Decode(code)
	if err != nil {
		return err
	}
	if len(back) != len(insns) {
		return errors.New("decode changed the instruction count")
	}
	for i := range back {
		if back[i] != insns[i] {
			return fmt.Errorf("instruction %d: encoded %v, decoded %v", i, insns[i], back[i])
		}
	}
	if !insns[len(insns)-1].IsExit() {
		return errors.New("program does not end with exit")
	}
	offs := insns.Offsets()
	for i, ins := range insns {
		if !ins.IsJump() {
			continue
		}
		t, ok := insns.Target(offs, i)
		if !ok {
			return fmt.Errorf("instruction %d (%v): jump lands outside the program or inside an instruction", i, ins)
		}
		// Only may_goto loops jump back, to a may_goto.
		if t <= i && !insns[t].IsMayGoto() {
			return fmt.Errorf("instruction %d (%v): backward jump to %v", i, ins, insns[t])
		}
	}
	for i, r := range ps.Relocations {
		if i < 0 || i >= len(insns) {
			return fmt.Errorf("relocation at %d out of range", i)
		}
		switch r.Kind {
		case object.RelocMap:
			if !insns[i].IsLoadImm64() || r.Map != spec.Arena() {
				return fmt.Errorf("map relocation at %d on %v", i, insns[i])
			}
		case object.RelocKfunc:
			if !insns[i].IsKfuncCall() || r.Extern == nil {
				return fmt.Errorf("kfunc relocation at %d on %v", i, insns[i])
			}
		default:
			return fmt.Errorf("relocation kind %d at %d", r.Kind, i)
		}
	}
	for i, ins := range insns {
		if (ins.IsLoadImm64() && ins.Src != 0 || ins.IsKfuncCall()) && ps.Relocations[i].Kind == 0 {
			return fmt.Errorf("instruction %d (%v) lacks its relocation", i, ins)
		}
	}
	return nil
}

// TestRandomTerminates runs generated programs on the vm alone: they must
// load and finish.
func TestRandomTerminates(t *testing.T) {
	for seed := int64(0); seed < 200; seed++ {
		spec := Generate(rand.New(rand.NewSource(seed)), GenConfig{Disable: GenArenaFetchBitwise})
		c, err := bpfarena.Load(spec, bpfarena.Options{Engine: bpfarena.VM})
		if err != nil {
			t.Fatalf("seed %d: vm load: %v", seed, err)
		}
		_, err = c.Program(RandomProgram).Test(bpfarena.RunOptions{})
		c.Close()
		if err != nil {
			t.Fatalf("seed %d: vm run: %v", seed, err)
		}
	}
}

// TestRandomDifferential runs random programs on the kernel and the vm
// for -random.duration and fails on the first mismatches, each shrunk to a
// minimal program printed as a table entry for randomRegressions.
func TestRandomDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("random differential testing is not short")
	}
	cfg := GenConfig{Body: *randomBody}
	var err error
	if cfg.Disable, err = ParseGenFeatures(*randomDisable); err != nil {
		t.Fatal(err)
	}
	disabled, err := ProbeFeatures(GenConfig{})
	if errors.Is(err, bpfarena.ErrNotSupported) {
		t.Skipf("kernel engine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if disabled != 0 {
		t.Logf("the kernel refuses: %v; left out", disabled)
	}
	cfg.Disable |= disabled

	seed := *randomSeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1e9
	}
	t.Logf("seeds from %d (-random.seed=%d reproduces)", seed, seed)
	deadline := time.Now().Add(*randomDuration)
	var (
		runs, rejected, mismatched int
		kinds                      = map[string][]int64{}
	)
	for ; time.Now().Before(deadline); seed++ {
		rep, err := RunRandom(seed, cfg)
		if errors.Is(err, ErrGenerator) {
			rejected++
			if rejected <= 3 {
				t.Errorf("%v", tailLines(err.Error(), 40))
			}
			continue
		}
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		runs++
		if rep.Diff.OK() {
			continue
		}
		mismatched++
		k := mismatchKind(rep.Diff.Mismatches[0])
		kinds[k] = append(kinds[k], seed)
		if len(kinds[k]) > 1 || len(kinds) > *randomMax {
			continue
		}
		s, err := Shrink(rep.Spec, []Step{{Program: RandomProgram}}, rep.Diff, 0)
		if err != nil {
			t.Errorf("seed %d: shrink: %v", seed, err)
			continue
		}
		name := fmt.Sprintf("seed%d", seed)
		t.Errorf("seed %d: engines disagree: %s\nshrunk in %d tries to %d instructions:\n%s\nas BPF C:\n%s",
			seed, strings.Join(rep.Diff.Mismatches, "; "), s.Tried, len(s.Spec.Programs[0].Instructions),
			GoCase(name, s.Spec, s.Diff), CCase(s.Spec))
	}
	t.Logf("%d programs ran on both engines, %d mismatched, %d rejected by the kernel", runs, mismatched, rejected)
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		t.Logf("mismatch kind %s: %d programs, first seeds %v", k, len(kinds[k]), kinds[k][:min(5, len(kinds[k]))])
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return lines[0] + "\n...\n" + strings.Join(lines[len(lines)-n:], "\n")
}
