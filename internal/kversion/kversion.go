// Package kversion describes the Linux kernels whose BPF arena behaviour
// the vm engine reproduces: one Model per modelled version, each a plain
// table of facts found by running that kernel, and the release that added
// each kernel function the vm provides.
//
// Everything that differs between kernels is a field here; the verifier
// and the runtime read the model they are given and do not test versions
// themselves.
package kversion

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is a kernel's major.minor.
type Version struct{ Major, Minor int }

// V is shorthand for Version{major, minor}.
func V(major, minor int) Version { return Version{major, minor} }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Less orders versions.
func (v Version) Less(o Version) bool {
	if v.Major != o.Major {
		return v.Major < o.Major
	}
	return v.Minor < o.Minor
}

// AtLeast reports v >= o.
func (v Version) AtLeast(o Version) bool { return !v.Less(o) }

// IsZero reports an unset version.
func (v Version) IsZero() bool { return v == Version{} }

// ParseVersion reads "6.12", "6.12.117" or a release such as
// "6.12.117+deb13-amd64"; only major and minor are kept.
func ParseVersion(s string) (Version, error) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("kernel version %q: want MAJOR.MINOR", s)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	mn, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil || major < 0 || mn < 0 {
		return Version{}, fmt.Errorf("kernel version %q: want MAJOR.MINOR", s)
	}
	return Version{major, mn}, nil
}

// ArenaSince is the release that added BPF_MAP_TYPE_ARENA.
var ArenaSince = V(6, 9)

// Model is what one kernel version does with arena programs, where
// kernels differ. Each field was found by running the kernel (see the
// corpus test named beside it).
type Model struct {
	// Version is the modelled major.minor.
	Version Version
	// Measured is the release the facts were measured on.
	Measured string

	// PageKfuncsSleepableOnly: bpf_arena_alloc_pages and
	// bpf_arena_free_pages are KF_SLEEPABLE and refused in non-sleepable
	// programs (corpus arena_alloc: alloc_in_tc). Later kernels accept
	// them anywhere and switch to non-sleepable variants.
	PageKfuncsSleepableOnly bool
	// DeferredFree: a free outside a sleepable context (a non-sleepable
	// program, or inside an RCU, preemption or IRQ region) is queued to a
	// worker, so the pages stay present until the program has returned.
	DeferredFree bool
	// BestFitNull: an allocation at a NULL address takes the smallest free
	// range that fits (corpus arena_alloc: alloc_best_fit_*); before, the
	// lowest free range that fits.
	BestFitNull bool
	// ArenaSignExtendingLoads: LDX MEMSX through an arena pointer is
	// accepted; before, the verifier refuses it (corpus
	// arena_verifier: ldsx_arena).
	ArenaSignExtendingLoads bool
	// FaultedFetchZeroes: an arena atomic that fetches (BPF_FETCH,
	// xchg, cmpxchg) and faults zeroes the register it would have
	// loaded; before, the register kept its value.
	FaultedFetchZeroes bool
	// SpinLockSafeArenaKfuncs: the page kfuncs may be called while a
	// bpf_res_spin_lock is held.
	SpinLockSafeArenaKfuncs bool
	// FreeBelowStartWraps: a free whose pointer lies below
	// user_vm_start still marks its (wrapped) page offsets free; other
	// kernels ignore such a free.
	FreeBelowStartWraps bool
	// ExitNamesMissingUnlock: leaving the program inside a spin lock,
	// RCU or preemption region is reported as the missing unlock ("1
	// bpf_preempt_enable is missing", corpus kfuncs: preempt_unbalanced)
	// rather than as the exit inside the region.
	ExitNamesMissingUnlock bool
	// LoadAcquire: the load-acquire and store-release atomics (and with
	// them 8- and 16-bit BPF_ATOMIC opcodes) exist.
	LoadAcquire bool
	// ArenaTypeTags: a global function's pointer argument or return
	// whose target carries the BTF type tag "arena" (7.3's __arena) is an
	// arena pointer, as with the decl tag arg:arena (corpus
	// arena_type_tags; the selftests' arena_htab and check_arena_arg_ret).
	// Read from the 6.12 and 7.3 sources (btf_prepare_func_args), not
	// yet measured on 6.18.
	ArenaTypeTags bool
	// ArenaValueOffsetBelowSize: an arena address loaded with ld_imm64
	// (an arena global's) must lie below the arena's end; before, the
	// end itself was allowed (found by the random differential on 7.3;
	// the 6.12 and 7.3 sources differ in arena_map_direct_value_addr).
	ArenaValueOffsetBelowSize bool
	// TailCallNotProgArray is the message for bpf_tail_call with a map
	// that is not a program array (corpus tailcall:
	// tail_call_needs_prog_array).
	TailCallNotProgArray string
}

// Models are the modelled kernels, oldest first. The newest is the
// default.
var Models = []*Model{
	{
		Version: V(6, 12), Measured: "6.12.117+deb13-amd64",
		PageKfuncsSleepableOnly: true,
		ExitNamesMissingUnlock:  true,
		TailCallNotProgArray:    "kernel subsystem misconfigured verifier",
	},
	{
		Version: V(6, 18), Measured: "6.18.44",
		PageKfuncsSleepableOnly: true,
		BestFitNull:             true,
		ArenaSignExtendingLoads: true,
		FreeBelowStartWraps:     true,
		LoadAcquire:             true,
		TailCallNotProgArray:    "expected prog array map for tail call",
	},
	{
		Version: V(7, 3), Measured: "7.3.4+deb13-amd64",
		DeferredFree:            true,
		BestFitNull:             true,
		ArenaSignExtendingLoads: true,
		FaultedFetchZeroes:      true,
		SpinLockSafeArenaKfuncs: true,
		LoadAcquire:             true,
		ArenaTypeTags:           true,
		TailCallNotProgArray:    "expected prog array map for tail call",

		ArenaValueOffsetBelowSize: true,
	},
}

// Default is the model used when none is asked for: the newest.
func Default() *Model { return Models[len(Models)-1] }

// ErrUnknown is returned for a version with no model.
var ErrUnknown = errors.New("no model of this kernel version")

// ErrNoArena is returned for a version older than the arena.
var ErrNoArena = errors.New("kernel has no BPF arena maps")

// Names lists the modelled versions.
func Names() []string {
	var s []string
	for _, m := range Models {
		s = append(s, m.Version.String())
	}
	return s
}

// Lookup returns the model of version v: the exact one, else the newest
// model not newer than v, so a 6.19 kernel is modelled as 6.18 until it
// has a model of its own. Versions before the arena, and versions older
// than every model, are errors.
func Lookup(v Version) (*Model, error) {
	if v.Less(ArenaSince) {
		return nil, fmt.Errorf("kernel %s: %w (Linux %s+ needed)", v, ErrNoArena, ArenaSince)
	}
	var best *Model
	for _, m := range Models {
		if !v.Less(m.Version) {
			best = m
		}
	}
	if best == nil {
		return nil, fmt.Errorf("kernel %s: %w (modelled: %s)", v, ErrUnknown, strings.Join(Names(), ", "))
	}
	return best, nil
}

// Parse returns the model named by s: "" for the default, "host" for the
// running kernel, or a version such as "6.12". Unlike Lookup, a version
// typed by a user must be modelled exactly.
func Parse(s string) (*Model, error) {
	switch s {
	case "":
		return Default(), nil
	case "host":
		v, err := HostVersion()
		if err != nil {
			return nil, err
		}
		return Lookup(v)
	}
	v, err := ParseVersion(s)
	if err != nil {
		return nil, err
	}
	if v.Less(ArenaSince) {
		return Lookup(v)
	}
	for _, m := range Models {
		if m.Version == v {
			return m, nil
		}
	}
	return nil, fmt.Errorf("kernel %s: %w (modelled: %s)", v, ErrUnknown, strings.Join(Names(), ", "))
}

// Kfunc is a kernel function the vm provides and the release that added
// it, for the error a program gets on an older kernel.
type Kfunc struct {
	Name  string
	Since Version
	// Until, if set, is the first release without it (renamed).
	Until Version
	// Gone lists modelled releases after Since that lack it all the
	// same (6.18 named bpf_stream_vprintk bpf_stream_vprintk_impl; 7.x
	// has both names).
	Gone []Version
}

// Kfuncs are the kernel functions the vm knows, with the release that
// added each (checked against each matrix kernel's BTF by the matrix
// tests).
var Kfuncs = []Kfunc{
	{Name: "bpf_rcu_read_lock", Since: V(6, 2)},
	{Name: "bpf_rcu_read_unlock", Since: V(6, 2)},
	{Name: "bpf_iter_num_new", Since: V(6, 4)},
	{Name: "bpf_iter_num_next", Since: V(6, 4)},
	{Name: "bpf_iter_num_destroy", Since: V(6, 4)},
	{Name: "bpf_arena_alloc_pages", Since: V(6, 9)},
	{Name: "bpf_arena_free_pages", Since: V(6, 9)},
	{Name: "bpf_preempt_disable", Since: V(6, 10)},
	{Name: "bpf_preempt_enable", Since: V(6, 10)},
	{Name: "bpf_local_irq_save", Since: V(6, 14)},
	{Name: "bpf_local_irq_restore", Since: V(6, 14)},
	{Name: "bpf_res_spin_lock", Since: V(6, 15)},
	{Name: "bpf_res_spin_unlock", Since: V(6, 15)},
	{Name: "bpf_res_spin_lock_irqsave", Since: V(6, 15)},
	{Name: "bpf_res_spin_unlock_irqrestore", Since: V(6, 15)},
	{Name: "bpf_arena_reserve_pages", Since: V(6, 17)},
	{Name: "bpf_stream_vprintk", Since: V(6, 17), Gone: []Version{V(6, 18)}},
	{Name: "bpf_stream_vprintk_impl", Since: V(6, 18)},
}

// ErrMissingKfunc is returned for a kernel function the modelled kernel
// does not have.
var ErrMissingKfunc = errors.New("kernel function not in this kernel")

// HasKfunc reports whether the modelled kernel has kernel function name,
// and if not, an error naming the release that added it. Names the table
// does not know are reported as present: the caller decides about them.
func (m *Model) HasKfunc(name string) error {
	for _, k := range Kfuncs {
		if k.Name != name {
			continue
		}
		if m.Version.Less(k.Since) {
			return fmt.Errorf("kfunc %s: %w (%s); it arrived in %s", name, ErrMissingKfunc, m.Version, k.Since)
		}
		if !k.Until.IsZero() && !m.Version.Less(k.Until) {
			return fmt.Errorf("kfunc %s: %w (%s); it was removed in %s", name, ErrMissingKfunc, m.Version, k.Until)
		}
		for _, g := range k.Gone {
			if g == m.Version {
				return fmt.Errorf("kfunc %s: %w (%s)", name, ErrMissingKfunc, m.Version)
			}
		}
		return nil
	}
	return nil
}

func (m *Model) String() string { return m.Version.String() }
