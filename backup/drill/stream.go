package drill

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/internal/iox"
)

// maxZstdWindow bounds the memory a zstd stream may ask for (zstd's CLI
// needs --long beyond 128 MiB); a stream from a bucket is not trusted to be
// modest.
const maxZstdWindow = 128 << 20

// Read-ahead between the decoders and the loader: the object downloads,
// decrypts and decompresses while the server executes statements, in at
// most readAheadBufs buffers of readAheadSize.
const (
	readAheadSize = 1 << 20
	readAheadBufs = 4
)

// restore streams the backup into the scratch databases; after a transport
// failure it starts again once, in fresh scratch databases.
func (d *drill) restore() error {
	err := d.restoreOnce()
	if d.ctx.Err() != nil {
		// Interrupted: whatever broke, it is no verdict on the backup.
		return d.ctx.Err()
	}
	var f *Failure
	if !errors.As(err, &f) || f.Class != FailTransport {
		return err
	}
	d.rec.Retried = true
	first := f.Detail
	if rerr := d.tgt.DropCreated(d.ctx); rerr != nil {
		return fmt.Errorf("target: %s", oneLine(rerr))
	}
	if rerr := d.createScratch(); rerr != nil {
		return rerr
	}
	err = d.restoreOnce()
	switch {
	case d.ctx.Err() != nil:
		return d.ctx.Err()
	case err == nil:
		d.note("the first download failed (%s) and the retry worked", first)
	case errors.As(err, &f) && f.Class == FailTransport:
		if f.Detail == first {
			f.Detail += " (the same on a second read)"
		} else {
			f.Detail += " (read twice; the first read: " + first + ")"
		}
	default:
		d.note("the first download failed (%s); the retry got further", first)
	}
	return err
}

// layer is one decoding stage and the meter on its output.
type layer struct {
	name string // age or sm4 (decryption: suite.Suite.Ext), zstd, gzip
	out  *meter
	// auth: every byte the layer gave out was authenticated already
	// (suite.Suite.ChunkAuthenticated).
	auth bool
}

// decrypts reports whether the layer is a suite's decryption.
func (l layer) decrypts() bool {
	_, ok := suite.ByExt(l.name)
	return ok
}

// restoreOnce is one attempt: Get → count and SHA-256 → decoders →
// read-ahead → the target's Load, then the figures checked against the manifest.
func (d *drill) restoreOnce() error {
	ctx, cancel := context.WithCancel(d.ctx)
	defer cancel()
	c := d.chosen
	rc, info, err := d.o.Store.Get(ctx, c.key)
	if errors.Is(err, backup.ErrNotFound) {
		return d.fail(FailIntegrity, "%s: the object is gone", c.key)
	}
	if err != nil {
		return d.fail(FailTransport, "get %s: %s", c.key, oneLine(err))
	}
	var closeOnce sync.Once
	closeBody := func() { closeOnce.Do(func() { rc.Close() }) }
	defer closeBody()
	if m := c.manifest; m != nil && m.Object.VersionID != "" && info.VersionID != "" && info.VersionID != m.Object.VersionID {
		d.note("the object's current version is %s, the manifest's %s: it was written again after the backup", info.VersionID, m.Object.VersionID)
	}

	src := &meter{r: rc, h: sha256.New()}
	layers, plain, err := d.decoders(src, info)
	if err != nil {
		return err
	}
	for _, l := range layers {
		if z, ok := l.out.r.(*zstd.Decoder); ok {
			defer z.Close()
		}
	}
	ra := iox.NewReadAhead(plain, readAheadSize, readAheadBufs)
	opts := engine.LoadOptions{Parallel: d.o.Parallel, Definers: d.o.Definers, Tables: d.loadFilter()}
	if d.o.Job.Format != "atrest" && len(d.o.Job.Databases) == 1 {
		opts.SourceDatabases = d.o.Job.Databases
	}
	t := d.now()
	lr, lerr := d.tgt.Load(ctx, ra, opts)
	loadWall := d.since(t)
	switch {
	case lerr == nil:
		// Whatever follows the last statement is read too, so that every
		// layer reaches its end and its checks.
		io.Copy(io.Discard, ra)
		if ra.Failed() != nil {
			lerr = ra.Failed()
		}
	case ra.Failed() == nil && !authenticated(layers) && d.ctx.Err() == nil:
		// Nothing vouched yet for the SQL the server refused: damaged
		// gzip decodes to garbage long before its checksum at the end, and
		// an sm object is proven by its tag at the end. Read on, so a
		// damaged object is not taken for a restore failure.
		io.Copy(io.Discard, ra)
	}
	if lerr != nil {
		// Stop the producer: cancel the request, close the body it may be
		// blocked on, and wait for it.
		cancel()
		closeBody()
	}
	ra.Close()
	d.phases(src, layers, loadWall)
	d.rec.Bytes = src.n
	if lr != nil {
		d.rec.SQLBytes = lr.Bytes
	}
	if lerr != nil {
		return d.loadFailure(lerr, ra, src, layers, info)
	}
	// The loader read the SQL to its end; finish the object (age stops at
	// its last chunk) so that its size and SHA-256 are whole.
	io.Copy(io.Discard, src)
	if t := transportFault(src, info); t != "" {
		return d.fail(FailTransport, "%s: %s", c.key, t)
	}
	if err := d.checkFigures(src, layers, lr); err != nil {
		return err
	}
	d.load = lr
	if d.only != nil {
		if n := subsetSkipped(lr); n > 0 {
			d.note("subset drill: %d statements of the tables and objects left out were read and not run", n)
		}
	}
	return nil
}

// decoders builds the decoding chain for the chosen object: the backup's
// suite (age, or sm4: its manifest says) and zstd for atrest backups; for a
// third-party dump, the layers its key's suffixes name, outermost last
// (x.sql.gz.age: age, then gzip). Decrypt reads the header here, so a
// wrong key is known before anything is loaded.
func (d *drill) decoders(src *meter, info backup.ObjectInfo) ([]layer, *meter, error) {
	var names []string
	if d.o.Job.Format != "atrest" {
		names = dumpLayers(d.chosen.key)
	} else {
		s, err := d.chosen.manifest.SuiteOf()
		if err != nil {
			return nil, nil, d.fail(FailIntegrity, "%s: %s", d.chosen.key, oneLine(err))
		}
		names = []string{s.Ext(), "zstd"}
	}
	var layers []layer
	var cur io.Reader = src
	for _, name := range names {
		var r io.Reader
		var err error
		s, decrypts := suite.ByExt(name)
		auth := false
		switch {
		case decrypts:
			r, err = s.Decrypt(cur, d.ids)
			if err != nil {
				return nil, nil, d.headerFailure(err, src, info)
			}
			auth = s.ChunkAuthenticated()
		case name == "zstd":
			r, err = zstd.NewReader(cur, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		case name == "gzip":
			r, err = gzip.NewReader(cur)
		}
		if err != nil {
			if t := transportFault(src, info); t != "" && src.err != nil {
				return nil, nil, d.fail(FailTransport, "%s: %s", d.chosen.key, t)
			}
			return nil, nil, d.fail(FailIntegrity, "%s: %s", d.chosen.key, layerErr(layer{name: name}, err))
		}
		m := &meter{r: r}
		layers = append(layers, layer{name: name, out: m, auth: auth})
		cur = m
	}
	plain := src
	if len(layers) > 0 {
		plain = layers[len(layers)-1].out
	}
	plain.h = sha256.New()
	return layers, plain, nil
}

// authenticated reports whether a suite's decryption authenticated every
// byte the loader read (age does, chunk by chunk; sm only at the end):
// then a statement the server refuses is the server's business.
func authenticated(layers []layer) bool {
	return len(layers) > 0 && layers[0].auth
}

// layerErr names the layer that failed, once (gzip's errors name it
// already, and a suite's errors name theirs).
func layerErr(l layer, err error) string {
	msg := oneLine(err)
	if l.decrypts() || strings.HasPrefix(msg, l.name+":") {
		return msg
	}
	return l.name + ": " + msg
}

// dumpLayers reads a third-party dump's encodings from its key's suffixes,
// as backup check holds the bytes to them.
func dumpLayers(key string) []string { return backup.DumpLayers(key) }

// headerFailure classifies a failure to open the object's header. No
// identity matching is a key failure, unless the bytes are not those
// backed up: a damaged recipient line looks the same to the suite, so the
// rest of the object is read to compare its SHA-256 with the manifest.
func (d *drill) headerFailure(err error, src *meter, info backup.ObjectInfo) error {
	key := d.chosen.key
	if t := transportFault(src, info); t != "" && src.err != nil {
		return d.fail(FailTransport, "%s: %s", key, t)
	}
	if !errors.Is(err, suite.ErrNoIdentity) {
		return d.fail(FailIntegrity, "%s: %s", key, oneLine(err))
	}
	m := d.chosen.manifest
	if m != nil {
		io.Copy(io.Discard, src)
		if t := transportFault(src, info); t != "" {
			return d.fail(FailTransport, "%s: %s", key, t)
		}
		if src.n != m.Object.CiphertextBytes || src.sum() != m.Object.CiphertextSHA256 {
			return d.fail(FailIntegrity, "%s: no identity opens the header, and the object's SHA-256 differs from the manifest: the stored bytes are damaged", key)
		}
	}
	detail := fmt.Sprintf("%s: the identity (%s) is not one the backup was encrypted to", key, describeIdentities(d.ids))
	if m != nil {
		detail += fmt.Sprintf(" (recipients %s); the object's SHA-256 matches the manifest, so the bytes are fine and the key is wrong", strings.Join(m.Encryption.Recipients, ", "))
	}
	return d.fail(FailKey, "%s", detail)
}

// loadFailure says why Load failed: the stream (transport, or a layer that
// found the bytes bad), a further scratch database that could not be
// created, the SQL, or the target.
func (d *drill) loadFailure(lerr error, ra *iox.ReadAhead, src *meter, layers []layer, info backup.ObjectInfo) error {
	key := d.chosen.key
	switch {
	case d.ctx.Err() != nil:
		return d.ctx.Err()
	case errors.Is(lerr, engine.ErrScratch):
		return fmt.Errorf("target: %s", oneLine(lerr))
	case ra.Failed() != nil && errors.Is(lerr, ra.Failed()):
		if t := transportFault(src, info); t != "" {
			return d.fail(FailTransport, "%s: %s", key, t)
		}
		for _, l := range layers {
			if l.out.err != nil && l.out.err != io.EOF {
				return d.fail(FailIntegrity, "%s: %s after %d bytes of SQL", key, layerErr(l, l.out.err), ra.N())
			}
		}
		return d.fail(FailIntegrity, "%s: reading the SQL: %s", key, oneLine(ra.Failed()))
	}
	if ra.Failed() != nil {
		// The load failed first, on data the stream later proved damaged.
		if t := transportFault(src, info); t != "" {
			return d.fail(FailTransport, "%s: %s", key, t)
		}
		for _, l := range layers {
			if l.out.err != nil && l.out.err != io.EOF {
				return d.fail(FailIntegrity, "%s: %s after %d bytes of SQL; the load had failed on the damaged data before (%s)", key, layerErr(l, l.out.err), ra.N(), oneLine(lerr))
			}
		}
	}
	var le *engine.LoadError
	if errors.As(lerr, &le) {
		switch {
		case le.Truncated():
			return d.fail(FailIntegrity, "%s: the SQL ends inside a statement: %s", key, oneLine(le))
		case le.Malformed():
			return d.fail(FailIntegrity, "%s: %s", key, oneLine(le))
		case le.Refused && le.Hint != "":
			return d.fail(FailRestore, "the target refused a statement: %s; %s", oneLine(le), le.Hint)
		case le.Refused:
			return d.fail(FailRestore, "the target refused a statement: %s", oneLine(le))
		}
		return d.fail(FailRestore, "lost the target during the load: %s", oneLine(le))
	}
	return d.fail(FailRestore, "%s", oneLine(lerr))
}

// checkFigures compares what streamed with the manifest: size and SHA-256
// of the object, compressed and SQL sizes, the SQL's SHA-256; and the SQL
// must end with the dump's trailer (a dump cut at a statement boundary
// loads without error).
func (d *drill) checkFigures(src *meter, layers []layer, lr *engine.LoadResult) error {
	key := d.chosen.key
	if m := d.chosen.manifest; m != nil {
		o := m.Object
		plain := layers[len(layers)-1].out
		switch {
		case src.n != o.CiphertextBytes:
			return d.fail(FailIntegrity, "%s: the object holds %d bytes, the manifest says %d", key, src.n, o.CiphertextBytes)
		case src.sum() != o.CiphertextSHA256:
			return d.fail(FailIntegrity, "%s: the object's SHA-256 differs from the manifest: the stored bytes are not the bytes uploaded", key)
		case layers[0].out.n != o.CompressedBytes:
			return d.fail(FailIntegrity, "%s: %s decrypted to %d bytes, the manifest says %d", key, layers[0].name, layers[0].out.n, o.CompressedBytes)
		case plain.n != o.PlaintextBytes:
			return d.fail(FailIntegrity, "%s: zstd decoded to %d bytes of SQL, the manifest says %d", key, plain.n, o.PlaintextBytes)
		case plain.sum() != o.PlaintextSHA256:
			return d.fail(FailIntegrity, "%s: the SQL's SHA-256 differs from the manifest", key)
		}
	}
	if !lr.Complete {
		return d.fail(FailIntegrity, "%s: the SQL does not end with its dump tool's trailer: the dump stopped early", key)
	}
	return nil
}

// phases turns the meters into per-stage seconds. Each meter times the
// reads of its stage, which include the reads of the stages before it, so
// a stage's own time is its meter's less the one before.
func (d *drill) phases(src *meter, layers []layer, loadWall float64) {
	p := &d.rec.Phases
	p.DownloadSeconds += src.dur.Seconds()
	prev := src.dur
	for _, l := range layers {
		own := max(0, l.out.dur-prev).Seconds()
		prev = l.out.dur
		if l.decrypts() {
			p.DecryptSeconds += own
		} else {
			p.DecompressSeconds += own
		}
	}
	p.LoadSeconds += loadWall
}

// transportFault reports a read the store broke: an error other than EOF,
// or a body shorter than the store announced. A body as long as announced
// that holds the wrong bytes is the integrity checks' business.
func transportFault(src *meter, info backup.ObjectInfo) string {
	if src.err != nil && src.err != io.EOF {
		return fmt.Sprintf("read failed after %d bytes: %s", src.n, oneLine(src.err))
	}
	if src.err == io.EOF && info.Size >= 0 && src.n != info.Size {
		return fmt.Sprintf("the body ended after %d of the %d bytes the server announced", src.n, info.Size)
	}
	return ""
}

// describeIdentities names the identities by their recipients (age1…,
// sm2:<key id>), never by anything secret.
func describeIdentities(ids []suite.Identity) string {
	var out []string
	for _, id := range ids {
		if r, err := suite.IdentityRecipient(id); err == nil {
			out = append(out, "recipient "+r.String())
		} else {
			out = append(out, "an identity of suite "+id.Suite().Name())
		}
	}
	return strings.Join(out, ", ")
}

// loadIdentities reads the identities (age, or an SM2 private key),
// keeping why there are none.
func (d *drill) loadIdentities() {
	if d.o.Identity != nil {
		d.ids = []suite.Identity{d.o.Identity}
		return
	}
	path := d.o.IdentityFile
	if path == "" {
		d.idErr = errors.New("no identity: give the drill an identity_file (or --identity) holding the key the backups are encrypted to (age identity, or SM2 private key)")
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		d.idErr = fmt.Errorf("identity file: %s", oneLine(err))
		return
	}
	ids, err := suite.ParseIdentities(data)
	if err != nil {
		// ParseIdentities never quotes the file.
		d.idErr = fmt.Errorf("identity file %s: %s", path, oneLine(err))
		return
	}
	d.ids = ids
}

// needsIdentity: atrest backups are always encrypted; a third-party dump
// when its key ends in .age.
func (d *drill) needsIdentity() bool {
	return d.o.Job.Format == "atrest" || slices.Contains(dumpLayers(d.chosen.key), "age")
}
