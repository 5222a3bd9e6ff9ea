package vm

import (
	"errors"
	"reflect"
	"syscall"
	"testing"

	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/object"
)

func loadCorpus(t *testing.T, name string) *object.Spec {
	t.Helper()
	spec, err := object.Load("../../bpf/corpus/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// The static .values of the corpus objects, as the object parser reads them.
func TestStaticSlots(t *testing.T) {
	tc := loadCorpus(t, "tailcall.bpf.o")
	mim := loadCorpus(t, "mapinmap.bpf.o")
	for _, c := range []struct {
		spec *object.Spec
		m    string
		want []object.MapSlot
	}{
		{tc, "jmp", []object.MapSlot{{Key: 0, Name: "ret42"}, {Key: 2, Name: "tail_self"}, {Key: 3, Name: "ret_len"}}},
		{mim, "outer_arr", []object.MapSlot{{Key: 0, Name: "inner_a"}, {Key: 2, Name: "inner_b"}}},
		{mim, "outer_hash", []object.MapSlot{{Key: 3, Name: "inner_b"}}},
	} {
		if got := c.spec.Map(c.m).Slots; !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: slots %v, want %v", c.m, got, c.want)
		}
	}
}

// The tail call count is per run: repeated runs each get 33.
func TestTailCallCountPerRun(t *testing.T) {
	c, err := Load(loadCorpus(t, "tailcall.bpf.o"), engine.Options{Programs: []string{"tail_call_limit", "ret42", "tail_self", "ret_len"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, _ := c.Program("tail_call_limit")
	res, err := p.Run(engine.RunOptions{Data: make([]byte, 64), Repeat: 3})
	if err != nil || res.Retval != 33 {
		t.Fatalf("retval %d, %v; want 33", res.Retval, err)
	}
}

// Loads that the kernel would refuse: an inner map unlike the inner
// definition, a slot naming a program that is not loaded.
func TestStaticSlotErrors(t *testing.T) {
	spec := loadCorpus(t, "mapinmap.bpf.o").Copy()
	spec.Map("inner_b").MaxEntries = 3
	if _, err := Load(spec, engine.Options{}); !errors.Is(err, errInval) {
		t.Errorf("mismatched inner map: %v, want EINVAL", err)
	}
	_, err := Load(loadCorpus(t, "tailcall.bpf.o"), engine.Options{Programs: []string{"tail_call_runs_target"}})
	if !errors.Is(err, errNoEnt) {
		t.Errorf("slot program not loaded: %v, want ENOENT", err)
	}
}

// Go cannot put references into these maps on the vm: it says so.
func TestRefMapsFromGo(t *testing.T) {
	c, err := Load(loadCorpus(t, "mapinmap.bpf.o"), engine.Options{Programs: []string{"mim_array_lookup"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m, _ := c.Map("outer_arr")
	if err := m.Update(make([]byte, 4), make([]byte, 4), 0); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("update: %v, want EOPNOTSUPP", err)
	}
}
