package bpfarena_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfarena/bpfarena"
)

func TestCheckLayouts(t *testing.T) {
	spec := loadEmbedded("examples/list.bpf.o")
	good := []bpfarena.Layout{
		{Name: "struct list_node", Layout: "struct16{next@0 *struct list_node value@64 u64}"},
		{Name: "var head", Layout: "*struct list_node"},
	}
	if err := bpfarena.CheckLayouts(spec, good); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		l    bpfarena.Layout
		want string
	}{
		{bpfarena.Layout{Name: "struct list_node", Layout: "struct8{value@0 u64}"}, "the object has struct16"},
		{bpfarena.Layout{Name: "var head", Layout: "u64"}, "generated for u64"},
		{bpfarena.Layout{Name: "var gone", Layout: "u64"}, "no such global"},
		{bpfarena.Layout{Name: "struct gone", Layout: "struct8{}"}, "gone"},
	} {
		err := bpfarena.CheckLayouts(spec, append(good, c.l))
		if !errors.Is(err, bpfarena.ErrStale) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v; want ErrStale saying %q", c.l, err, c.want)
		}
	}
}

// The staleness check every generated loader runs.
func BenchmarkCheckLayouts(b *testing.B) {
	spec := loadEmbedded("examples/list.bpf.o")
	want := []bpfarena.Layout{
		{Name: "struct list_node", Layout: "struct16{next@0 *struct list_node value@64 u64}"},
		{Name: "var head", Layout: "*struct list_node"},
		{Name: "var n", Layout: "u32"},
	}
	for b.Loop() {
		if err := bpfarena.CheckLayouts(spec, want); err != nil {
			b.Fatal(err)
		}
	}
}
