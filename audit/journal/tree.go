package journal

import (
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// compactRange holds the roots of the perfect subtrees that make up a Merkle
// tree of size n (one per set bit of n, biggest first): enough to extend the
// tree and compute its root in O(log n) memory, which is what lets Verify and
// the writer stream a journal of any length.
type compactRange struct {
	n     int
	nodes []tlog.Hash
}

func (r *compactRange) add(x *hasher, leaf tlog.Hash) {
	r.nodes = append(r.nodes, leaf)
	for i := r.n; i&1 == 1; i >>= 1 {
		k := len(r.nodes)
		r.nodes[k-2] = x.interior(r.nodes[k-2], r.nodes[k-1])
		r.nodes = r.nodes[:k-1]
	}
	r.n++
}

// root is RFC 6962's MTH over the leaves added so far with x's hash; with
// SHA-256 it equals tlog.TreeHash.
func (r *compactRange) root(x *hasher) tlog.Hash {
	if len(r.nodes) == 0 {
		return x.s.Sum(nil)
	}
	h := r.nodes[len(r.nodes)-1]
	for i := len(r.nodes) - 2; i >= 0; i-- {
		h = x.interior(r.nodes[i], h)
	}
	return h
}

func (r *compactRange) clone() compactRange {
	return compactRange{n: r.n, nodes: append([]tlog.Hash(nil), r.nodes...)}
}

// valid reports whether the node count fits the size (one node per set bit).
func (r *compactRange) valid() bool {
	bits := 0
	for n := r.n; n > 0; n &= n - 1 {
		bits++
	}
	return r.n >= 0 && bits == len(r.nodes)
}

// merkleLevels holds every complete node of a tree: level 0 the leaves,
// level l the roots of the aligned perfect subtrees of 2^l leaves, about
// two hashes per leaf in all (what tlog calls stored hashes). It proves
// inclusion with the journal's own hash: tlog's proofs are SHA-256 only,
// and for SHA-256 these are tlog's proofs exactly (RFC 6962, 2.1.1).
type merkleLevels [][]tlog.Hash

func (m *merkleLevels) add(x *hasher, leaf tlog.Hash) {
	lv := *m
	if len(lv) == 0 {
		lv = append(lv, nil)
	}
	lv[0] = append(lv[0], leaf)
	for l := 0; len(lv[l])%2 == 0; l++ {
		n := len(lv[l])
		h := x.interior(lv[l][n-2], lv[l][n-1])
		if l+1 == len(lv) {
			lv = append(lv, nil)
		}
		lv[l+1] = append(lv[l+1], h)
	}
	*m = lv
}

// size is the number of leaves.
func (m merkleLevels) size() int {
	if len(m) == 0 {
		return 0
	}
	return len(m[0])
}

// hash is the Merkle tree hash of leaves [lo, hi), hi > lo: a stored node
// when the range is an aligned perfect subtree, else split as RFC 6962
// splits it (whose left parts are always aligned).
func (m merkleLevels) hash(x *hasher, lo, hi int) tlog.Hash {
	n := hi - lo
	if n&(n-1) == 0 && lo%n == 0 {
		l := bits.TrailingZeros(uint(n))
		return m[l][lo>>l]
	}
	k := maxPow2Below(n)
	return x.interior(m.hash(x, lo, lo+k), m.hash(x, lo+k, hi))
}

// prove returns the inclusion proof of leaf idx in the tree of the first
// size leaves, nearest sibling first.
func (m merkleLevels) prove(x *hasher, size, idx int) (tlog.RecordProof, error) {
	if size > m.size() || idx < 0 || idx >= size {
		return nil, fmt.Errorf("journal: no leaf %d in a tree of %d (of %d stored)", idx, size, m.size())
	}
	var path func(lo, hi int) tlog.RecordProof
	path = func(lo, hi int) tlog.RecordProof {
		if hi-lo == 1 {
			return nil
		}
		k := maxPow2Below(hi - lo)
		if idx < lo+k {
			return append(path(lo, lo+k), m.hash(x, lo+k, hi))
		}
		return append(path(lo+k, hi), m.hash(x, lo, lo+k))
	}
	return path(0, size), nil
}

// checkInclusion checks that proof takes leaf idx to root in a tree of
// size leaves.
func checkInclusion(x *hasher, proof tlog.RecordProof, size, idx int, leaf, root tlog.Hash) error {
	if idx < 0 || idx >= size {
		return fmt.Errorf("leaf %d outside a tree of %d", idx, size)
	}
	var run func(p tlog.RecordProof, lo, hi int) (tlog.Hash, bool)
	run = func(p tlog.RecordProof, lo, hi int) (tlog.Hash, bool) {
		if hi-lo == 1 {
			return leaf, len(p) == 0
		}
		if len(p) == 0 {
			return tlog.Hash{}, false
		}
		k := maxPow2Below(hi - lo)
		sib := p[len(p)-1]
		if idx < lo+k {
			h, ok := run(p[:len(p)-1], lo, lo+k)
			return x.interior(h, sib), ok
		}
		h, ok := run(p[:len(p)-1], lo+k, hi)
		return x.interior(sib, h), ok
	}
	if got, ok := run(proof, 0, size); !ok || got != root {
		return errors.New("invalid inclusion proof")
	}
	return nil
}

// maxPow2Below is the largest power of two below n (n >= 2).
func maxPow2Below(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}
