package conformance

import (
	"reflect"
	"testing"
)

func TestParseTags(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags []string
		want []string // messages, in the order they must appear
		fail bool
		ret  *int64
		arch []string
		err  bool
	}{
		{name: "older form", tags: []string{"comment:test_expect_failure", "comment:test_expect_msg=12=second", "comment:test_expect_msg=3=first"},
			want: []string{`"first"`, `"second"`}, fail: true},
		{name: "oldest form, source order", tags: []string{"comment:test_expect_msg=a", "comment:test_expect_msg=b"},
			want: []string{`"a"`, `"b"`}},
		{name: "numbered form", tags: []string{"comment:9:test_expect_msg=later", "comment:4:test_expect_failure", "comment:5:test_expect_msg=1=x"},
			want: []string{`"1=x"`, `"later"`}, fail: true},
		{name: "numbered retval", tags: []string{"comment:7:test_expect_success", "comment:8:test_retval=-EINVAL"}, ret: ptr(-22)},
		{name: "numbered arch", tags: []string{"comment:1:test_arch=X86_64", "comment:2:test_arch=ARM64", "comment:3:test_expect_success"},
			arch: []string{"amd64", "arm64"}},
		{name: "numbered regex", tags: []string{"comment:2:test_expect_regex=^R[0-9]"}, want: []string{"/^R[0-9]/"}},
		{name: "unknown arch", tags: []string{"comment:1:test_arch=VAX"}, err: true},
		{name: "both verdicts", tags: []string{"comment:1:test_expect_success", "comment:2:test_expect_failure"}, err: true},
		{name: "not a comment", tags: []string{"arg:arena"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ParseTags(tc.tags)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if err != nil {
				return
			}
			var got []string
			for _, m := range e.Messages {
				got = append(got, m.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("messages %q, want %q", got, tc.want)
			}
			if e.Failure != tc.fail {
				t.Errorf("failure %v, want %v", e.Failure, tc.fail)
			}
			if (e.Retval == nil) != (tc.ret == nil) || (e.Retval != nil && *e.Retval != *tc.ret) {
				t.Errorf("retval %v, want %v", e.Retval, tc.ret)
			}
			if !reflect.DeepEqual(e.Arches, tc.arch) {
				t.Errorf("arches %q, want %q", e.Arches, tc.arch)
			}
		})
	}
}

func ptr(v int64) *int64 { return &v }

func FuzzParseTags(f *testing.F) {
	f.Add("comment:12:test_expect_msg=x", "comment:test_expect_msg=3=y")
	f.Add("comment:1:test_retval=-EINVAL", "comment:2:test_arch=X86_64")
	f.Fuzz(func(t *testing.T, a, b string) {
		e, err := ParseTags([]string{a, b})
		if err != nil {
			return
		}
		for i := 1; i < len(e.Messages); i++ {
			if e.Messages[i].Order < e.Messages[i-1].Order {
				t.Fatalf("messages out of order: %+v", e.Messages)
			}
		}
	})
}
