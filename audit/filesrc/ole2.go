package filesrc

import (
	"fmt"
	"io"
	"strings"

	"github.com/richardlehane/mscfb"

	"github.com/atrest/atrest/audit"
)

// ole2 reads an OLE2 compound file ([MS-CFB]) by what its streams say it
// is: an Excel or WPS workbook (BIFF8), a Word or WPS document (Word 97), an
// Outlook message, or an Office 2007+ document saved with a password (an
// "EncryptedPackage" stream, [MS-OFFCRYPTO] §2.3.4.4).
func (fc *fileCtx) ole2(n node, ra io.ReaderAt, size int64) result {
	if r, deep := fc.tooDeep(n, "ole2"); deep {
		return r
	}
	cf, err := mscfb.New(ra)
	if err != nil {
		return result{state: audit.StateError, format: "ole2", notRead: notReadError, reason: "ole2: " + cfbError(err)}
	}
	streams := map[string]*mscfb.File{}
	for _, f := range cf.File {
		// A stream cannot be larger than the file that holds it; a longer
		// one is a FAT cycle that would be read for ever.
		if f.Size > size {
			return result{state: audit.StateError, format: "ole2", notRead: notReadError,
				reason: fmt.Sprintf("ole2: stream %q claims %d bytes in a file of %d", f.Name, f.Size, size)}
		}
		key := f.Name
		if len(f.Path) > 0 {
			key = strings.Join(f.Path, "/") + "/" + f.Name
		}
		streams[key] = f
	}
	switch {
	case streams["EncryptedPackage"] != nil || streams["EncryptionInfo"] != nil:
		return result{state: audit.StateEncrypted, format: "ole2", reason: "office document encrypted with a password (EncryptedPackage)"}
	case streams["Workbook"] != nil:
		return fc.biff(n, streams["Workbook"])
	case streams["Book"] != nil:
		return fc.biff(n, streams["Book"])
	case streams["WordDocument"] != nil:
		return fc.word97(n, streams)
	case streams["__properties_version1.0"] != nil:
		return fc.msg(n, cf, streams)
	case streams["PowerPoint Document"] != nil:
		return result{state: audit.StateSkipped, format: "ppt", notRead: "ppt",
			reason: "PowerPoint 97-2003 presentation not parsed"}
	}
	return result{state: audit.StateBinary, format: "ole2", reason: "OLE2 compound file with no document stream atrest reads"}
}

// cfbError keeps mscfb's message and drops its offset noise.
func cfbError(err error) string {
	s := strings.TrimPrefix(err.Error(), "mscfb: ")
	if i := strings.LastIndex(s, "; "); i > 0 {
		s = s[:i]
	}
	return s
}
