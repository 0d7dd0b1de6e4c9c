package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
)

// RowSum is an order-independent digest of a table's rows: the sum,
// modulo 2^256, of SHA-256(row) read as big-endian integers, with the row
// count beside it. A sum rather than XOR keeps duplicate rows (tables
// without a key) from cancelling. Each family says what the bytes of a
// row are (its canonical encoding) and names the result in its digest
// algorithm. The empty table's digest is 64 zeros.
type RowSum struct {
	sum  [4]uint64 // big-endian limbs: sum[0] most significant
	Rows int64
}

// Add counts one row, given its canonical bytes.
func (d *RowSum) Add(row []byte) {
	h := sha256.Sum256(row)
	var c uint64
	for i := 3; i >= 0; i-- {
		d.sum[i], c = bits.Add64(d.sum[i], binary.BigEndian.Uint64(h[i*8:]), c)
	}
	d.Rows++
}

// Hex is the digest in hex.
func (d *RowSum) Hex() string {
	var b [32]byte
	for i, l := range d.sum {
		binary.BigEndian.PutUint64(b[i*8:], l)
	}
	return hex.EncodeToString(b[:])
}
