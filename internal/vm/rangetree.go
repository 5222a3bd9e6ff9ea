package vm

import "sort"

// rangeTree tracks an arena's free pages the way the kernel's range tree
// does, because which pages bpf_arena_alloc_pages hands out depends on it:
// free pages form maximal ranges; an allocation without an address takes
// the smallest range that fits (best fit, not lowest address), and among
// ranges of that size the one most recently inserted, since the kernel's
// size-ordered tree puts equal sizes after the existing ones and its search
// ends at the last fitting node. Every change to a range re-inserts it, so
// seq records the order of (re)insertion.
type rangeTree struct {
	nodes []rangeNode // sorted by start, disjoint, never adjacent
	seq   uint64
}

type rangeNode struct {
	start, last uint32
	seq         uint64
}

func (n *rangeNode) size() uint64 { return uint64(n.last) - uint64(n.start) + 1 }

// first returns the index of the lowest range overlapping [start, last],
// or -1.
func (t *rangeTree) first(start, last uint32) int {
	i := sort.Search(len(t.nodes), func(i int) bool { return t.nodes[i].last >= start })
	if i < len(t.nodes) && t.nodes[i].start <= last {
		return i
	}
	return -1
}

func (t *rangeTree) touch(i int) {
	t.seq++
	t.nodes[i].seq = t.seq
}

func (t *rangeTree) insertNode(start, last uint32) {
	t.seq++
	i := sort.Search(len(t.nodes), func(i int) bool { return t.nodes[i].start > start })
	t.nodes = append(t.nodes, rangeNode{})
	copy(t.nodes[i+1:], t.nodes[i:])
	t.nodes[i] = rangeNode{start: start, last: last, seq: t.seq}
}

func (t *rangeTree) remove(i int) {
	t.nodes = append(t.nodes[:i], t.nodes[i+1:]...)
}

// isSet reports whether [start, start+n) is free, all in one range.
func (t *rangeTree) isSet(start, n uint32) bool {
	last := start + n - 1
	i := t.first(start, last)
	return i >= 0 && t.nodes[i].start <= start && t.nodes[i].last >= last
}

// find returns the start of the range an allocation of n pages takes.
func (t *rangeTree) find(n uint32) (uint32, bool) {
	best := -1
	for i := range t.nodes {
		nd := &t.nodes[i]
		if nd.size() < uint64(n) {
			continue
		}
		if best < 0 || nd.size() < t.nodes[best].size() ||
			(nd.size() == t.nodes[best].size() && nd.seq > t.nodes[best].seq) {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	return t.nodes[best].start, true
}

// findLowest returns the start of the lowest range that fits n pages:
// the allocation order of kernels that kept free pages in a maple tree.
func (t *rangeTree) findLowest(n uint32) (uint32, bool) {
	for i := range t.nodes {
		if t.nodes[i].size() >= uint64(n) {
			return t.nodes[i].start, true
		}
	}
	return 0, false
}

// clear marks [start, start+n) as not free.
func (t *rangeTree) clear(start, n uint32) {
	last := start + n - 1
	for {
		i := t.first(start, last)
		if i < 0 {
			return
		}
		nd := &t.nodes[i]
		switch {
		case nd.start < start && nd.last > last:
			// The range covers the cleared one: keep its left part,
			// then add the right part as a new range.
			oldLast := nd.last
			nd.last = start - 1
			t.touch(i)
			t.insertNode(last+1, oldLast)
		case nd.start < start:
			nd.last = start - 1
			t.touch(i)
		case nd.last > last:
			nd.start = last + 1
			t.touch(i)
			return
		default:
			t.remove(i)
		}
	}
}

// set marks [start, start+n) as free, merging with adjacent ranges.
func (t *rangeTree) set(start, n uint32) {
	last := start + n - 1
	if i := t.first(start, last); i >= 0 {
		if t.nodes[i].start <= start && t.nodes[i].last >= last {
			return
		}
		t.clear(start, n)
	}
	left, right := -1, -1
	if start > 0 {
		left = t.first(start-1, start-1)
	}
	if last < ^uint32(0) {
		right = t.first(last+1, last+1)
	}
	switch {
	case left >= 0 && right >= 0:
		t.nodes[left].last = t.nodes[right].last
		t.remove(right)
		t.touch(left)
	case left >= 0:
		t.nodes[left].last = last
		t.touch(left)
	case right >= 0:
		t.nodes[right].start = start
		t.touch(right)
	default:
		t.insertNode(start, last)
	}
}
