// Package conformance runs annotated BPF programs on the engines and
// compares what they do: the kernel selftests' annotations for expected
// load results, log messages and return values, and a differential check
// of retvals, globals and arena pages between the vm and the kernel.
package conformance

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/bpfarena/bpfarena/internal/kversion"
)

// Tag prefixes of the kernel selftests' annotations (BTF decl tags).
const (
	tagPrefix      = "comment:"
	tagSuccess     = "test_expect_success"
	tagFailure     = "test_expect_failure"
	tagMsg         = "test_expect_msg="
	tagRegex       = "test_expect_regex="
	tagRetval      = "test_retval="
	tagDescription = "test_description="
	tagProgFlags   = "test_prog_flags="
	tagAuxiliary   = "test_auxiliary"
	tagLogLevel    = "test_log_level="
	tagArch        = "test_arch="
	tagJited       = "test_jited="
	// The project's own: the range of kernel versions whose behaviour
	// the expectation describes.
	tagKernelMin = "bpfarena_kernel_min="
	tagKernelMax = "bpfarena_kernel_max="
)

// archNames maps the selftests' architecture names to GOARCH.
var archNames = map[string]string{
	"X86_64": "amd64", "ARM64": "arm64", "RISCV64": "riscv64", "s390x": "s390x", "LOONGARCH": "loong64",
}

// Expect is what a program's annotations require.
type Expect struct {
	// Annotated is false for programs that carry no test annotation.
	Annotated   bool
	Success     bool // load must succeed (the default)
	Failure     bool // load must fail
	Messages    []Message
	Retval      *int64 // nil: do not run
	RetvalText  string
	Description string
	Auxiliary   bool
	LogLevel    uint32
	ProgFlags   []string
	// Arches lists the GOARCH values the test is for (empty: any).
	Arches []string
	// Jited counts the expected JIT output lines, which are not checked:
	// neither engine reports machine code.
	Jited int
	// KernelMin and KernelMax, when set, bound the kernel versions the
	// expectation holds for; elsewhere the test is skipped.
	KernelMin, KernelMax kversion.Version
}

// KernelRange reports why the expectation does not apply to kernel v, or
// "" when it does.
func (e Expect) KernelRange(v kversion.Version) string {
	switch {
	case !e.KernelMin.IsZero() && v.Less(e.KernelMin):
		return fmt.Sprintf("expectation for kernel %s and later; this is %s", e.KernelMin, v)
	case !e.KernelMax.IsZero() && e.KernelMax.Less(v):
		return fmt.Sprintf("expectation for kernel %s and earlier; this is %s", e.KernelMax, v)
	}
	return ""
}

// Message is one expected log line: a substring, or a regular expression.
type Message struct {
	Order int
	Text  string
	Regex *regexp.Regexp
}

func (m Message) String() string {
	if m.Regex != nil {
		return "/" + m.Regex.String() + "/"
	}
	return strconv.Quote(m.Text)
}

// ParseTags reads the annotations among a program's decl tags.
func ParseTags(tags []string) (Expect, error) {
	var e Expect
	seq := 0
	for _, t := range tags {
		t, ok := strings.CutPrefix(t, tagPrefix)
		if !ok {
			continue
		}
		seq++
		// Linux 7.3's bpf_misc.h numbers every tag ("comment:<n>:tag");
		// older trees number only messages ("comment:test_expect_msg=<n>=text").
		numbered := false
		if n, rest, ok := cutNumber(t); ok {
			seq, t, numbered = n, rest, true
		}
		counter := func(s string) (int, string) {
			if numbered {
				return seq, s
			}
			return splitCounter(s, seq)
		}
		switch {
		case t == tagSuccess:
			e.Annotated, e.Success = true, true
		case t == tagFailure:
			e.Annotated, e.Failure = true, true
		case t == tagAuxiliary:
			e.Auxiliary = true
		case strings.HasPrefix(t, tagMsg):
			n, text := counter(strings.TrimPrefix(t, tagMsg))
			e.Annotated = true
			e.Messages = append(e.Messages, Message{Order: n, Text: text})
		case strings.HasPrefix(t, tagRegex):
			n, text := counter(strings.TrimPrefix(t, tagRegex))
			re, err := regexp.Compile(text)
			if err != nil {
				return e, fmt.Errorf("annotation %q: %w", t, err)
			}
			e.Annotated = true
			e.Messages = append(e.Messages, Message{Order: n, Regex: re})
		case strings.HasPrefix(t, tagRetval):
			text := strings.TrimPrefix(t, tagRetval)
			v, err := ParseRetval(text)
			if err != nil {
				return e, fmt.Errorf("annotation %q: %w", t, err)
			}
			e.Annotated = true
			e.Retval, e.RetvalText = &v, text
		case strings.HasPrefix(t, tagDescription):
			e.Description = strings.TrimPrefix(t, tagDescription)
		case strings.HasPrefix(t, tagLogLevel):
			n, err := strconv.ParseUint(strings.TrimPrefix(t, tagLogLevel), 0, 32)
			if err != nil {
				return e, fmt.Errorf("annotation %q: %w", t, err)
			}
			e.LogLevel = uint32(n)
		case strings.HasPrefix(t, tagArch):
			name := strings.TrimPrefix(t, tagArch)
			goarch, ok := archNames[name]
			if !ok {
				return e, fmt.Errorf("annotation %q: unknown architecture %q", t, name)
			}
			e.Arches = append(e.Arches, goarch)
		case strings.HasPrefix(t, tagJited):
			e.Jited++
		case strings.HasPrefix(t, tagKernelMin), strings.HasPrefix(t, tagKernelMax):
			v, err := kversion.ParseVersion(t[strings.IndexByte(t, '=')+1:])
			if err != nil {
				return e, fmt.Errorf("annotation %q: %w", t, err)
			}
			if strings.HasPrefix(t, tagKernelMin) {
				e.KernelMin = v
			} else {
				e.KernelMax = v
			}
		case strings.HasPrefix(t, tagProgFlags):
			e.ProgFlags = append(e.ProgFlags, strings.TrimPrefix(t, tagProgFlags))
		}
	}
	if e.Success && e.Failure {
		return e, fmt.Errorf("annotated both test_expect_success and test_expect_failure")
	}
	if e.Annotated && !e.Failure {
		e.Success = true
	}
	// The counter only makes identical tags distinct; source order is
	// the order in which the messages must appear.
	sort.SliceStable(e.Messages, func(i, j int) bool { return e.Messages[i].Order < e.Messages[j].Order })
	return e, nil
}

// cutNumber splits "<n>:<rest>", the numbered tag form.
func cutNumber(s string) (int, string, bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return 0, s, false
	}
	for _, c := range s[:i] {
		if c < '0' || c > '9' {
			return 0, s, false
		}
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0, s, false
	}
	return n, s[i+1:], true
}

// splitCounter splits "<n>=<text>" (current form) or "<text>" (older form).
func splitCounter(s string, seq int) (int, string) {
	if i := strings.IndexByte(s, '='); i > 0 {
		if n, err := strconv.Atoi(s[:i]); err == nil {
			return n, s[i+1:]
		}
	}
	return seq, s
}

var namedRetvals = map[string]int64{
	"INT_MIN": -1 << 31, "INT_MAX": 1<<31 - 1, "UINT_MAX": 1<<32 - 1,
	"XDP_ABORTED": 0, "XDP_DROP": 1, "XDP_PASS": 2, "XDP_TX": 3, "XDP_REDIRECT": 4,
	"TC_ACT_OK": 0, "TC_ACT_SHOT": 2, "TC_ACT_UNSPEC": -1,
	"TEST_DATA_LEN": 64,
}

var errnos = map[string]syscall.Errno{
	"EPERM": syscall.EPERM, "ENOENT": syscall.ENOENT, "E2BIG": syscall.E2BIG, "EBADF": syscall.EBADF,
	"EAGAIN": syscall.EAGAIN, "ENOMEM": syscall.ENOMEM, "EACCES": syscall.EACCES, "EFAULT": syscall.EFAULT,
	"EBUSY": syscall.EBUSY, "EEXIST": syscall.EEXIST, "EINVAL": syscall.EINVAL, "ENOSPC": syscall.ENOSPC,
	"ERANGE": syscall.ERANGE, "ENOTSUP": syscall.ENOTSUP, "EOPNOTSUPP": syscall.EOPNOTSUPP,
	"ENOTSUPP": 524, "EDOM": syscall.EDOM, "ENODEV": syscall.ENODEV,
}

// ParseRetval parses an annotated return value: a number (decimal, hex,
// negative), an errno name with a sign ("-EINVAL") or a known constant.
func ParseRetval(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return v, nil
	}
	if v, err := strconv.ParseUint(s, 0, 64); err == nil {
		return int64(v), nil
	}
	neg := strings.HasPrefix(s, "-")
	name := strings.TrimPrefix(s, "-")
	if v, ok := namedRetvals[name]; ok {
		if neg {
			v = -v
		}
		return v, nil
	}
	if e, ok := errnos[name]; ok {
		if neg {
			return -int64(e), nil
		}
		return int64(e), nil
	}
	return 0, fmt.Errorf("unknown return value %q", s)
}
