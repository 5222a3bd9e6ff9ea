//go:build linux

package sys

import (
	"testing"
	"unsafe"
)

// TestAttrLayout pins the bpf_attr offsets the kernel UAPI defines; a
// field out of place would silently send garbage to the kernel.
func TestAttrLayout(t *testing.T) {
	var m MapCreateAttr
	var p ProgLoadAttr
	var r ProgRunAttr
	var b BTFLoadAttr
	var s streamReadAttr
	var e mapElemAttr
	var mi MapInfo
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"map_create.map_name", unsafe.Offsetof(m.MapName), 28},
		{"map_create.btf_fd", unsafe.Offsetof(m.BTFFD), 48},
		{"map_create.map_extra", unsafe.Offsetof(m.MapExtra), 64},
		{"map_create size", unsafe.Sizeof(m), 80},
		{"elem.key", unsafe.Offsetof(e.Key), 8},
		{"elem.flags", unsafe.Offsetof(e.Flags), 24},
		{"prog_load.log_buf", unsafe.Offsetof(p.LogBuf), 32},
		{"prog_load.prog_name", unsafe.Offsetof(p.ProgName), 48},
		{"prog_load.expected_attach_type", unsafe.Offsetof(p.ExpectedAttachType), 68},
		{"prog_load.func_info", unsafe.Offsetof(p.FuncInfo), 80},
		{"prog_load.line_info", unsafe.Offsetof(p.LineInfo), 96},
		{"prog_load.attach_btf_id", unsafe.Offsetof(p.AttachBTFID), 108},
		{"prog_load.fd_array", unsafe.Offsetof(p.FDArray), 120},
		{"prog_load.log_true_size", unsafe.Offsetof(p.LogTrueSize), 140},
		{"prog_load size", unsafe.Sizeof(p), 152},
		{"test_run.data_in", unsafe.Offsetof(r.DataIn), 16},
		{"test_run.repeat", unsafe.Offsetof(r.Repeat), 32},
		{"test_run.ctx_in", unsafe.Offsetof(r.CtxIn), 48},
		{"test_run.flags", unsafe.Offsetof(r.Flags), 64},
		{"test_run size", unsafe.Sizeof(r), 80},
		{"btf_load.btf_size", unsafe.Offsetof(b.BTFSize), 16},
		{"btf_load size", unsafe.Sizeof(b), 40},
		{"stream.stream_id", unsafe.Offsetof(s.StreamID), 12},
		{"stream.prog_fd", unsafe.Offsetof(s.ProgFD), 16},
		{"map_info.map_extra", unsafe.Offsetof(mi.MapExtra), 80},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s at %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}
