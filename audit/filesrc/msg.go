package filesrc

import (
	"github.com/richardlehane/mscfb"

	"github.com/atrest/atrest/audit"
)

// msg reads an Outlook message.
func (fc *fileCtx) msg(n node, cf *mscfb.Reader, streams map[string]*mscfb.File) result {
	return result{state: audit.StateSkipped, format: "msg", notRead: "msg", reason: "outlook message not parsed"}
}
