package journal

import "golang.org/x/mod/sumdb/tlog"

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
