package backup

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup/dump"
	"github.com/atrest/atrest/crypto"
)

// ZstdLevel is the zstd level of backups: zstd's own default, fast enough to
// keep up with a dump while shrinking SQL several times.
const ZstdLevel = 3

// RunOptions is what one backup run needs: no more than the job's share of
// the configuration.
type RunOptions struct {
	Job string
	// DSN is the source server's go-sql-driver DSN; it is never printed.
	DSN       crypto.Secret
	Databases []string // none = every database but the system ones
	// Parallel is the number of connections that dump tables at once
	// (default 1; see dump.Options).
	Parallel int
	Store    ObjectStore
	// Prefix is the job's key prefix in the bucket ("yb/"); the backup goes
	// under <Prefix><Job>/.
	Prefix string
	// Recipients are the age public keys the backup is encrypted to:
	// producing a backup needs no secret.
	Recipients []age.Recipient
	// SigningKey signs the manifest (the installation's journal key).
	SigningKey  ed25519.PrivateKey
	Now         func() time.Time // default time.Now
	ToolVersion string
	// Progress, if set, counts bytes as they go (for a progress line).
	Progress *Progress
}

// Progress counts a run's bytes as they stream; safe to read while the run
// writes.
type Progress struct {
	plain, cipher atomic.Int64
}

// PlaintextBytes is the SQL written so far.
func (p *Progress) PlaintextBytes() int64 { return p.plain.Load() }

// CiphertextBytes is what has been handed to the upload so far.
func (p *Progress) CiphertextBytes() int64 { return p.cipher.Load() }

// Run makes one backup: a consistent dump of the databases streamed as SQL
// → zstd → age → object storage (multipart, memory bounded by the store's
// part size), hashing plaintext and ciphertext on the way, then the signed
// manifest, uploaded last. It returns the manifest as stored.
//
// Any failure (the dump, the upload, ctx) fails the upload through the
// pipe it reads, so the store aborts it and no object appears; no manifest
// is written. Errors are one line and begin with "backup <job>:".
func Run(ctx context.Context, o RunOptions) (*Manifest, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("backup %s: "+format, append([]any{o.Job}, args...)...)
	}
	started := now().UTC()
	key := ObjectKey(o.Prefix, o.Job, started)

	// Never overwrite: in a bucket without versioning that would destroy
	// the backup already there (two runs in one second).
	if _, err := o.Store.Stat(ctx, key); err == nil {
		return nil, fail("%s already exists; not overwriting it", key)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fail("%s", oneLine(err))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	type putResult struct {
		info ObjectInfo
		err  error
	}
	put := make(chan putResult, 1)
	go func() {
		info, err := o.Store.Put(ctx, key, pr, -1, PutOptions{ContentType: "application/octet-stream", ChecksumSHA256: true})
		// A writer still writing must not block forever on a reader gone.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.CloseWithError(errUploadDone)
		}
		put <- putResult{info, err}
	}()

	sink := &sinkWriter{w: pw}
	p, err := newPipeline(sink, o.Recipients, o.Progress)
	if err != nil {
		pw.CloseWithError(err)
		<-put
		return nil, fail("%v", err)
	}
	res, err := dump.Dump(ctx, o.DSN.Reveal(), dump.Options{Databases: o.Databases, Parallel: o.Parallel}, p.plain)
	if err == nil {
		err = p.close()
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		// Fail the upload with the cause, so the store aborts it.
		pw.CloseWithError(err)
		pres := <-put
		if sink.failed() {
			// The upload failed first; the dump only saw the broken pipe.
			return nil, fail("upload: %s", oneLine(pres.err))
		}
		return nil, fail("%s (upload aborted)", oneLine(err))
	}
	pw.Close()
	pres := <-put
	if pres.err != nil {
		return nil, fail("upload: %s", oneLine(pres.err))
	}
	info := pres.info
	if info.Size != p.cipherN.n.Load() {
		return nil, fail("upload %s: server stored %d bytes, %d were sent", key, info.Size, p.cipherN.n.Load())
	}

	m := &Manifest{
		Format: ManifestFormat, Job: o.Job, ToolVersion: o.ToolVersion,
		Source:   Server{Version: res.Server.Version, UUID: res.Server.UUID, Host: res.Server.Host, Port: res.Server.Port},
		Started:  started,
		Snapshot: res.SnapshotTime.UTC(),
		Finished: now().UTC(),
		Position: Position{BinlogFile: res.BinlogFile, BinlogPos: res.BinlogPos, GTID: res.GTID,
			Exact: res.PositionExact, Consistency: res.Consistency, Notes: res.Notes},
		Databases:       res.Databases,
		DigestAlgorithm: res.DigestAlgorithm,
		Object: Object{
			Key: key, VersionID: info.VersionID, ETag: info.ETag, ChecksumSHA256: info.ChecksumSHA256,
			PlaintextBytes:   p.plainN.n.Load(),
			CompressedBytes:  p.compN.n.Load(),
			CiphertextBytes:  p.cipherN.n.Load(),
			PlaintextSHA256:  hex.EncodeToString(p.plainN.h.Sum(nil)),
			CiphertextSHA256: hex.EncodeToString(p.cipherN.h.Sum(nil)),
		},
		Compression: "zstd",
		Encryption:  ClientEncryption{Scheme: "age", Recipients: recipientStrings(o.Recipients)},
	}
	for _, t := range res.Tables {
		m.Tables = append(m.Tables, Table{Database: t.Database, Name: t.Name, Rows: t.Rows, Digest: t.Digest, DDLHash: t.DDLHash})
	}
	for _, list := range [][]dump.Object{res.Views, res.Triggers, res.Routines} {
		for _, x := range list {
			m.Objects = append(m.Objects, SchemaObject{Database: x.Database, Name: x.Name, Type: x.Type})
		}
	}
	if err := m.Sign(o.SigningKey); err != nil {
		return nil, fail("%v", err)
	}
	data, err := m.Marshal()
	if err != nil {
		return nil, fail("%v", err)
	}
	mkey := ManifestKey(key)
	if _, err := o.Store.Put(ctx, mkey, bytes.NewReader(data), int64(len(data)),
		PutOptions{ContentType: "application/json", ChecksumSHA256: true}); err != nil {
		// No manifest, no backup: take the data object away too, so that
		// nothing is left that looks like one. If that fails as well, the
		// completeness check reports it as an orphan.
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer dcancel()
		left := "the data object was removed"
		if derr := o.Store.Delete(dctx, key); derr != nil {
			left = "the data object is left without a manifest (an orphan for check to report)"
		}
		return nil, fail("store manifest: %s; %s", oneLine(err), left)
	}
	return m, nil
}

func (o *RunOptions) validate() error {
	job := o.Job
	switch {
	case job == "" || strings.ContainsAny(job, "/\\") || strings.TrimSpace(job) != job:
		return fmt.Errorf("backup: job name %q cannot be part of an object key", job)
	case o.Store == nil:
		return fmt.Errorf("backup %s: no object store", job)
	case o.DSN.IsZero():
		return fmt.Errorf("backup %s: no source DSN", job)
	case len(o.Recipients) == 0:
		return fmt.Errorf("backup %s: no age recipients: a backup is never stored unencrypted", job)
	case len(o.SigningKey) != ed25519.PrivateKeySize:
		return fmt.Errorf("backup %s: no ed25519 key to sign the manifest with", job)
	}
	for i, r := range o.Recipients {
		if r == nil {
			return fmt.Errorf("backup %s: recipient %d is nil", job, i+1)
		}
	}
	return nil
}

func recipientStrings(rs []age.Recipient) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		if s, ok := r.(fmt.Stringer); ok {
			out[i] = s.String()
		} else {
			out[i] = fmt.Sprintf("%T", r)
		}
	}
	return out
}

// pipeline is the chain the dump writes into: count and hash the SQL,
// compress, count, encrypt, count and hash the ciphertext, upload.
type pipeline struct {
	plain   io.Writer
	plainN  *counter
	zw      *zstd.Encoder
	compN   *counter
	aw      io.WriteCloser
	cipherN *counter
}

func newPipeline(dst io.Writer, recipients []age.Recipient, prog *Progress) (*pipeline, error) {
	p := &pipeline{}
	var cipherAt, plainAt *atomic.Int64
	if prog != nil {
		cipherAt, plainAt = &prog.cipher, &prog.plain
	}
	p.cipherN = &counter{w: dst, h: sha256.New(), mirror: cipherAt}
	aw, err := age.Encrypt(p.cipherN, recipients...)
	if err != nil {
		return nil, fmt.Errorf("age: %w", err)
	}
	p.aw = aw
	p.compN = &counter{w: aw}
	zw, err := zstd.NewWriter(p.compN, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(ZstdLevel)))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	p.zw = zw
	p.plainN = &counter{w: zw, h: sha256.New(), mirror: plainAt}
	p.plain = p.plainN
	return p, nil
}

// close flushes zstd's last frame and age's last chunk.
func (p *pipeline) close() error {
	if err := p.zw.Close(); err != nil {
		p.aw.Close()
		return fmt.Errorf("zstd: %w", err)
	}
	if err := p.aw.Close(); err != nil {
		return fmt.Errorf("age: %w", err)
	}
	return nil
}

// counter counts (and optionally hashes) what passes to w.
type counter struct {
	w      io.Writer
	h      hash.Hash
	n      atomic.Int64
	mirror *atomic.Int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	c.n.Add(int64(n))
	if c.mirror != nil {
		c.mirror.Add(int64(n))
	}
	return n, err
}

// sinkWriter is the pipe's writing end. It remembers whether a write
// failed, which only happens when the upload has failed and closed the
// reading end: then the upload's error is the cause to report.
type sinkWriter struct {
	w   *io.PipeWriter
	mu  sync.Mutex
	err error
}

func (s *sinkWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
	}
	return n, err
}

func (s *sinkWriter) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil
}

// errUploadDone fails writes after the upload has finished; none should
// come, as Put returns only after the EOF that closing the pipe gives.
var errUploadDone = errors.New("upload already finished")

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
