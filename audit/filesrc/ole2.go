package filesrc

import (
	"encoding/binary"
	"errors"
	"io"
	"unicode/utf16"

	"github.com/atrest/atrest/audit"
)

// ole2 classifies an OLE2 compound file ([MS-CFB]). Office 2007+ documents
// saved with a password are OLE2 files holding an "EncryptedPackage" stream
// ([MS-OFFCRYPTO] §2.3.4.4); anything else is a legacy .doc/.xls/.ppt, whose
// binary formats are not parsed.
func ole2(ra io.ReaderAt, size int64) result {
	names, err := cfbNames(ra, size)
	switch {
	case err != nil:
		return result{state: audit.StateBinary, format: "ole2", reason: "OLE2 compound file (directory unreadable: " + err.Error() + ")"}
	case names["EncryptedPackage"]:
		return result{state: audit.StateEncrypted, format: "ole2", reason: "encrypted office document"}
	}
	return result{state: audit.StateBinary, format: "ole2", reason: "legacy OLE2 document not parsed"}
}

const cfbEndOfChain = 0xFFFFFFFE

var errCFB = errors.New("malformed compound file")

// cfbNames lists the names of the directory entries of a compound file.
func cfbNames(ra io.ReaderAt, size int64) (map[string]bool, error) {
	hdr := make([]byte, 512)
	if _, err := ra.ReadAt(hdr, 0); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	shift := le.Uint16(hdr[0x1e:])
	if shift != 9 && shift != 12 {
		return nil, errCFB
	}
	secSize := int64(1) << shift
	// No chain without a cycle is longer than the file has sectors: the
	// guard against corrupt or hostile FAT and DIFAT chains.
	maxSteps := int(size/secSize) + 1
	sector := func(n uint32) ([]byte, error) {
		off := (int64(n) + 1) * secSize
		if off+secSize > size {
			return nil, errCFB
		}
		b := make([]byte, secSize)
		_, err := ra.ReadAt(b, off)
		return b, err
	}
	// The FAT sectors are listed in the header's DIFAT, then in a DIFAT chain.
	fatSecs := make([]uint32, 0, 109)
	for i := 0; i < 109; i++ {
		fatSecs = append(fatSecs, le.Uint32(hdr[0x4c+4*i:]))
	}
	next := le.Uint32(hdr[0x44:])
	for n, steps := le.Uint32(hdr[0x48:]), 0; n > 0 && next < cfbEndOfChain-4; n, steps = n-1, steps+1 {
		if steps > maxSteps {
			return nil, errCFB
		}
		b, err := sector(next)
		if err != nil {
			return nil, err
		}
		for i := int64(0); i < secSize/4-1; i++ {
			fatSecs = append(fatSecs, le.Uint32(b[4*i:]))
		}
		next = le.Uint32(b[secSize-4:])
	}
	perFAT := uint32(secSize / 4)
	fatNext := func(n uint32) (uint32, error) {
		i := n / perFAT
		if int(i) >= len(fatSecs) {
			return 0, errCFB
		}
		b, err := sector(fatSecs[i])
		if err != nil {
			return 0, err
		}
		return le.Uint32(b[4*(n%perFAT):]), nil
	}
	names := map[string]bool{}
	dir := le.Uint32(hdr[0x30:])
	for steps := 0; dir < cfbEndOfChain-4; steps++ {
		if steps > maxSteps {
			return nil, errCFB
		}
		b, err := sector(dir)
		if err != nil {
			return nil, err
		}
		for e := int64(0); e+128 <= secSize; e += 128 {
			ent := b[e : e+128]
			nameLen := int(le.Uint16(ent[0x40:]))
			if ent[0x42] == 0 || nameLen < 2 || nameLen > 64 {
				continue // unused entry
			}
			u := make([]uint16, nameLen/2-1)
			for i := range u {
				u[i] = le.Uint16(ent[2*i:])
			}
			names[string(utf16.Decode(u))] = true
		}
		if dir, err = fatNext(dir); err != nil {
			return nil, err
		}
	}
	return names, nil
}
