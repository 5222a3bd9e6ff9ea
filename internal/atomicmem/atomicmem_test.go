package atomicmem

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// Every alignment and length copies the same bytes as copy.
func TestCopyMatchesCopy(t *testing.T) {
	var backing [64]uint64
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&backing[0])), len(backing)*8)
	for i := range mem {
		mem[i] = byte(i*7 + 3)
	}
	for off := 0; off < 16; off++ {
		for n := 0; n <= 40; n++ {
			src := mem[off : off+n]
			dst := make([]byte, n)
			Load(dst, src)
			if !bytes.Equal(dst, src) {
				t.Fatalf("Load off %d n %d: %x, want %x", off, n, dst, src)
			}
			want := make([]byte, len(mem))
			copy(want, mem)
			in := make([]byte, n)
			for i := range in {
				in[i] = byte(255 - i)
			}
			copy(want[off:], in)
			Store(mem[off:off+n], in)
			if !bytes.Equal(mem, want) {
				t.Fatalf("Store off %d n %d changed other bytes", off, n)
			}
		}
	}
}

// Under -race, copies of words that others change atomically are not races.
func TestLoadAgainstAtomicAdds(t *testing.T) {
	var words [4]uint64
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			atomic.AddUint64(&words[1], 1)
			atomic.AddUint32((*uint32)(unsafe.Pointer(&words[2])), 1)
		}
	}()
	src := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 32)
	dst := make([]byte, 32)
	for i := 0; i < 1000; i++ {
		Load(dst, src)
		Store(src[24:32], dst[24:32])
	}
	stop.Store(true)
	wg.Wait()
}
