package kversion

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		err  error
	}{
		{"", "7.3", nil},
		{"6.12", "6.12", nil},
		{"6.18", "6.18", nil},
		{"7.3", "7.3", nil},
		{"6.1", "", ErrNoArena},
		{"6.15", "", ErrUnknown},
		{"seven", "", nil},
	} {
		m, err := Parse(tt.in)
		switch {
		case tt.want != "":
			if err != nil || m.Version.String() != tt.want {
				t.Errorf("Parse(%q) = %v, %v; want %s", tt.in, m, err, tt.want)
			}
		case tt.err != nil:
			if !errors.Is(err, tt.err) {
				t.Errorf("Parse(%q): %v, want %v", tt.in, err, tt.err)
			}
		default:
			if err == nil {
				t.Errorf("Parse(%q) accepted", tt.in)
			}
		}
	}
	// Lookup, unlike Parse, maps an unmodelled release to the model below.
	if m, err := Lookup(V(6, 19)); err != nil || m.Version != V(6, 18) {
		t.Errorf("Lookup(6.19) = %v, %v", m, err)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Version{
		"6.12.117+deb13-amd64": V(6, 12), "7.3.4+deb13-amd64": V(7, 3), "6.18.44-fc-v1300": V(6, 18), "6.1.0-57-amd64": V(6, 1),
	} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v", in, got, err)
		}
	}
}

func TestHasKfunc(t *testing.T) {
	m612, _ := Parse("6.12")
	err := m612.HasKfunc("bpf_arena_reserve_pages")
	if !errors.Is(err, ErrMissingKfunc) || !strings.Contains(err.Error(), "it arrived in 6.17") {
		t.Errorf("6.12 reserve: %v", err)
	}
	m73, _ := Parse("7.3")
	for _, k := range Kfuncs {
		if err := m73.HasKfunc(k.Name); err != nil && k.Until.IsZero() && len(k.Gone) == 0 {
			t.Errorf("7.3 %s: %v", k.Name, err)
		}
	}
}
