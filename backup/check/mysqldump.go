package check

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto/suite"
)

// mysqldump checks dumps made by another tool (mysqldump, pg_dump), found
// by key pattern: there is no manifest, so freshness and trend go by the
// objects' dates and sizes, and --read decodes them to the end and asks
// the family's engine whether what it decoded is whole.
func (c *checker) mysqldump() error {
	pattern := c.o.Job.KeyPattern
	if _, err := path.Match(pattern, ""); err != nil || pattern == "" {
		return fmt.Errorf("key_pattern %q is not a valid pattern", pattern)
	}
	prefix := patternPrefix(pattern)
	var objs []backup.ObjectInfo
	for oi, err := range c.o.Store.List(c.ctx, prefix) {
		if err != nil {
			return err
		}
		if ok, _ := path.Match(pattern, oi.Key); ok {
			objs = append(objs, oi)
		}
	}
	// Newest first.
	slices.SortStableFunc(objs, func(a, b backup.ObjectInfo) int {
		return cmp.Or(b.LastModified.Compare(a.LastModified), strings.Compare(b.Key, a.Key))
	})

	rpo := c.o.Job.RPO
	bad := map[string]bool{}
	if (c.o.Read || c.o.ReadAll) && len(objs) > 0 {
		read := objs[:1]
		if c.o.ReadAll {
			read = objs
		}
		for _, oi := range read {
			r := c.readChecked(oi.Key, func() readOutcome { return c.readDump(oi.Key) })
			if r.Status == Fail && r.Failure == FailIntegrity {
				bad[oi.Key] = true
			}
		}
	} else if c.o.Read || c.o.ReadAll {
		c.add(Integrity, Fail, "", "nothing to read: no object matches "+pattern, nil)
	}

	var good []backup.ObjectInfo
	for _, oi := range objs {
		if !bad[oi.Key] && oi.Size > 0 {
			good = append(good, oi)
		}
	}
	figs := map[string]any{"rpo_seconds": rpo.Seconds(), "objects": len(objs)}
	if len(good) == 0 {
		c.add(Freshness, Fail, "", fmt.Sprintf("no dump matching %s (%d object(s), none usable); RPO %s", pattern, len(objs), backup.HumanDuration(rpo)), figs)
	} else {
		age := c.o.Now.Sub(good[0].LastModified)
		figs["age_seconds"] = age.Seconds()
		if rpo > 0 && age > rpo {
			c.add(Freshness, Fail, good[0].Key, fmt.Sprintf("newest dump stored %s ago, older than the RPO of %s", backup.HumanDuration(age), backup.HumanDuration(rpo)), figs)
		} else {
			c.add(Freshness, Pass, good[0].Key, fmt.Sprintf("newest dump stored %s ago, RPO %s", backup.HumanDuration(max(age, 0)), backup.HumanDuration(rpo)), figs)
		}
	}
	c.sizeTrend(objs)
	if err := c.uploads(prefix); err != nil {
		return err
	}
	if err := c.posture(prefix, ""); err != nil {
		return err
	}
	c.sortResults()
	return nil
}

// sizeTrend compares the newest dump's size with the one before.
func (c *checker) sizeTrend(objs []backup.ObjectInfo) {
	switch len(objs) {
	case 0:
		return
	case 1:
		c.add(Trend, Pass, objs[0].Key, fmt.Sprintf("first dump: %s; nothing to compare with yet", size(objs[0].Size)), nil)
		return
	}
	cur, prev := objs[0], objs[1]
	figs := map[string]any{"bytes": cur.Size, "previous_bytes": prev.Size}
	switch d := drop(prev.Size, cur.Size); {
	case cur.Size == 0:
		c.add(Trend, Fail, cur.Key, fmt.Sprintf("newest dump is empty, the one before held %s (%s)", size(prev.Size), prev.Key), figs)
	case d > dropLimit:
		c.add(Trend, Fail, cur.Key, fmt.Sprintf("size down %.0f%% (%s → %s) since %s", 100*d, size(prev.Size), size(cur.Size), prev.Key), figs)
	default:
		c.add(Trend, Pass, cur.Key, fmt.Sprintf("%s; previous %s: no sudden drop", size(cur.Size), size(prev.Size)), figs)
	}
}

// patternPrefix is the literal start of a pattern, to list no more than
// needed.
func patternPrefix(p string) string {
	if i := strings.IndexAny(p, `*?[\`); i >= 0 {
		return p[:i]
	}
	return p
}

// readDump decodes a dump to the end (gzip, zstd, or as it is, inside age
// when there is an identity) and asks the engine whether it is whole.
func (c *checker) readDump(key string) readOutcome {
	rc, info, err := c.o.Store.Get(c.ctx, key)
	if err != nil {
		if errors.Is(err, backup.ErrNotFound) {
			return readOutcome{failure: FailIntegrity, detail: "the object is gone"}
		}
		return readOutcome{failure: FailTransport, detail: "get: " + oneLine(err)}
	}
	defer rc.Close()
	src := newSource(rc, 0)
	layers, plain, verdict, verr, decodeErr, status := decodeDump(src, c.o.Identities, c.o.Job.Engine.CheckDump)
	if t := src.finish(info.Size); t != "" {
		return readOutcome{failure: FailTransport, detail: t}
	}
	if bad := layersAgree(key, layers); bad != "" && status != Unsupported {
		return readOutcome{failure: FailIntegrity, detail: bad}
	}
	figs := map[string]any{"bytes": src.n, "plaintext_bytes": plain}
	how := strings.Join(layers, "+")
	switch {
	case status == Unsupported:
		return readOutcome{status: Unsupported, figures: figs, detail: decodeErr}
	case decodeErr != "":
		return readOutcome{failure: FailIntegrity, figures: figs, detail: decodeErr}
	case verr != nil:
		return readOutcome{failure: FailIntegrity, figures: figs,
			detail: fmt.Sprintf("%s decoded to the end (%s) but %s", how, size(plain), oneLine(verr))}
	}
	return readOutcome{figures: figs, detail: fmt.Sprintf("read %s: %s decoded to the end, %s %s", size(src.n), how, size(plain), verdict)}
}

// decodeDump peels the layers it recognises by their magic bytes and
// hands what is inside to whole, which reads it to the end. A layer that
// fails on the way is the layer's error (errText), not whole's verdict.
func decodeDump(r io.Reader, ids []suite.Identity, whole func(io.Reader) (string, error)) (layers []string, plain int64, verdict string, verr error, errText string, st Status) {
	br := bufio.NewReaderSize(r, 64<<10)
	var cur io.Reader = br
	for range 3 {
		magic, _ := br.Peek(len("age-encryption.org/v1"))
		switch {
		case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
			zr, err := gzip.NewReader(br)
			if err != nil {
				return layers, 0, "", nil, "gzip: " + oneLine(err), ""
			}
			layers = append(layers, "gzip")
			cur = zr
		case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
			zr, err := zstd.NewReader(br, zstd.WithDecoderMaxWindow(maxZstdWindow))
			if err != nil {
				return layers, 0, "", nil, "zstd: " + oneLine(err), ""
			}
			defer zr.Close()
			layers = append(layers, "zstd")
			cur = zr
		case bytes.HasPrefix(magic, []byte("age-encryption.org/")):
			if !slices.ContainsFunc(ids, func(id suite.Identity) bool { return id.Suite() == suite.Standard }) {
				return append(layers, "age"), 0, "", nil, "encrypted with age: give --identity (an age identity) to read it", Unsupported
			}
			ar, err := suite.Standard.Decrypt(br, ids)
			if err != nil {
				return layers, 0, "", nil, oneLine(err), ""
			}
			layers = append(layers, "age")
			br = bufio.NewReaderSize(ar, 64<<10)
			cur = br
			continue
		default:
			if len(layers) == 0 {
				layers = append(layers, "plain SQL")
			}
		}
		break
	}
	in := &layerReader{r: cur}
	verdict, verr = whole(in)
	if verr == nil {
		// Read what whole left, so that every layer reaches its checks.
		_, verr = io.Copy(io.Discard, in)
	}
	if in.err != nil {
		return layers, in.n, "", nil, fmt.Sprintf("%s: %s after %d bytes", layers[len(layers)-1], oneLine(in.err), in.n), ""
	}
	return layers, in.n, verdict, verr, "", ""
}

// layersAgree holds the layers the bytes have (as decodeDump peeled them)
// to those the key's name gives: a drill decodes by the name (as people do,
// zcat for .gz), so a dump whose bytes are not what its name says cannot
// be restored that way, however well it decodes here. A key whose last
// suffix is no known one (.sql.x) names nothing, and is taken as it comes.
func layersAgree(key string, layers []string) string {
	named := backup.DumpLayers(key)
	if len(named) == 0 && !strings.HasSuffix(strings.ToLower(key), ".sql") {
		return ""
	}
	got := slices.DeleteFunc(slices.Clone(layers), func(l string) bool { return l == "plain SQL" })
	if slices.Equal(got, named) {
		return ""
	}
	say := func(ls []string) string {
		if len(ls) == 0 {
			return "plain SQL"
		}
		return strings.Join(ls, "+")
	}
	return fmt.Sprintf("the key's name says %s, the bytes are %s: a restore by the name would fail", say(named), say(got))
}

// layerReader counts what the innermost layer gives and keeps its error.
type layerReader struct {
	r   io.Reader
	n   int64
	err error
}

func (l *layerReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if err != nil && err != io.EOF && l.err == nil {
		l.err = err
	}
	return n, err
}
