package backup

import (
	"bytes"
	"context"
	gocrypto "crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine"
)

// ZstdLevel is the zstd level of backups: zstd's own default, fast enough to
// keep up with a dump while shrinking SQL several times.
const ZstdLevel = 3

// RunOptions is what one backup run needs: no more than the job's share of
// the configuration.
type RunOptions struct {
	Job string
	// Engine is the source's database family (engine/pick chooses it).
	Engine engine.Engine
	// DSN is the source server's DSN; it is never printed.
	DSN       crypto.Secret
	Databases []string // none = every database but the system ones
	// Parallel is the number of connections that dump tables at once
	// (default 1), all in one snapshot.
	Parallel int
	Store    ObjectStore
	// Prefix is the job's key prefix in the bucket ("yb/"); the backup goes
	// under <Prefix><Job>/.
	Prefix string
	// Suite encrypts the object, names its key and signs the manifest
	// (nil: standard).
	Suite suite.Suite
	// Recipients are the public keys of Suite the backup is encrypted to
	// (age, or SM2): producing a backup needs no secret.
	Recipients []suite.Recipient
	// SigningKey signs the manifest: the job's manifest key, of Suite.
	SigningKey gocrypto.Signer
	// Key is where the backup goes, from NewKey, so that the caller can
	// record it before the upload begins; "" = Run calls NewKey without a
	// lock directory.
	Key         string
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
// → zstd → the suite's encryption (age, or SM4 with SM2-wrapped keys) →
// object storage (multipart, memory bounded by the store's
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
	key := o.Key
	if key == "" {
		var err error
		if key, err = NewKey("", o.Prefix, o.Job, o.Suite, started); err != nil {
			return nil, err
		}
	}

	// Never overwrite: in a bucket without versioning that would destroy
	// the backup already there. The key is new by construction (NewKey),
	// both puts below are creates that the server refuses on a taken key
	// where it has conditional writes, and this covers the servers that do
	// not.
	if _, err := o.Store.Stat(ctx, key); err == nil {
		return nil, fail("%s already exists; not overwriting it", key)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fail("%s", oneLine(err))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A spool rather than a bare pipe: the store uploads a part at a time
	// and reads nothing meanwhile; the spool lets the dump and the encoders
	// run on during that wait, in at most spoolBytes more memory.
	pr, pw := newSpool(spoolBufSize, spoolBytes/spoolBufSize)
	type putResult struct {
		info ObjectInfo
		err  error
	}
	put := make(chan putResult, 1)
	go func() {
		info, err := o.Store.Put(ctx, key, pr, -1, PutOptions{ContentType: "application/octet-stream", ChecksumSHA256: true, IfAbsent: true})
		// A writer still writing must not block forever on a reader gone.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.CloseWithError(errUploadDone)
		}
		put <- putResult{info, err}
	}()

	sink := &sinkWriter{w: pw}
	p, err := newPipeline(sink, o.Suite, o.Recipients, o.Progress)
	if err != nil {
		pw.CloseWithError(err)
		<-put
		return nil, fail("%v", err)
	}
	res, err := o.Engine.Dump(ctx, o.DSN.Reveal(), engine.DumpOptions{Databases: o.Databases, Parallel: o.Parallel}, p.plain)
	if err == nil {
		err = p.close()
	} else {
		p.abort()
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
			return nil, fail("upload: %w", pres.err)
		}
		return nil, fail("%s (upload aborted)", oneLine(err))
	}
	pw.Close()
	pres := <-put
	if pres.err != nil {
		return nil, fail("upload: %w", pres.err)
	}
	info := pres.info
	if info.Size != p.cipherN.n.Load() {
		return nil, fail("upload %s: server stored %d bytes, %d were sent", key, info.Size, p.cipherN.n.Load())
	}

	m := &Manifest{
		Format: ManifestFormat, Job: o.Job, ToolVersion: o.ToolVersion,
		Source: Server{Engine: o.Engine.Name(), Version: res.Server.Version, UUID: res.Server.UUID,
			Host: res.Server.Host, Port: res.Server.Port},
		Started:  started,
		Snapshot: res.SnapshotTime.UTC(),
		Finished: now().UTC(),
		Position: Position{BinlogFile: res.BinlogFile, BinlogPos: res.BinlogPos, GTID: res.GTID, LSN: res.LSN,
			Exact: res.PositionExact, Consistency: res.Consistency, Notes: res.Notes},
		Databases:       res.Databases,
		DigestAlgorithm: res.DigestAlgorithm,
		Object: Object{
			Key: key, VersionID: info.VersionID, ETag: info.ETag, ChecksumSHA256: info.ChecksumSHA256,
			PlaintextBytes:   p.plainN.n.Load(),
			CompressedBytes:  p.compN.n.Load(),
			CiphertextBytes:  p.cipherN.n.Load(),
			PlaintextSHA256:  hex.EncodeToString(p.plainHash.Sum(nil)),
			CiphertextSHA256: hex.EncodeToString(p.cipherN.h.Sum(nil)),
		},
		Compression: "zstd",
		Suite:       o.Suite.Name(),
		Encryption:  ClientEncryption{Scheme: o.Suite.Scheme(), Recipients: recipientStrings(o.Recipients)},
	}
	for _, t := range res.Tables {
		m.Tables = append(m.Tables, Table{Database: t.Database, Name: t.Name, Rows: t.Rows, Digest: t.Digest, DDLHash: t.DDLHash})
	}
	for _, x := range res.Objects() {
		m.Objects = append(m.Objects, SchemaObject{Database: x.Database, Name: x.Name, Type: x.Type,
			Digest: x.Digest, Definer: x.Definer, Value: x.Value})
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
		PutOptions{ContentType: "application/json", ChecksumSHA256: true, IfAbsent: true}); err != nil {
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
	if o.Suite == nil {
		o.Suite = suite.Standard
	}
	switch {
	case job == "" || strings.ContainsAny(job, "/\\") || strings.TrimSpace(job) != job:
		return fmt.Errorf("backup: job name %q cannot be part of an object key", job)
	case o.Store == nil:
		return fmt.Errorf("backup %s: no object store", job)
	case o.Engine == nil:
		return fmt.Errorf("backup %s: no database engine", job)
	case o.DSN.IsZero():
		return fmt.Errorf("backup %s: no source DSN", job)
	case len(o.Recipients) == 0:
		return fmt.Errorf("backup %s: no recipients: a backup is never stored unencrypted", job)
	case o.SigningKey == nil:
		return fmt.Errorf("backup %s: no key to sign the manifest with", job)
	case o.Key != "" && (!strings.HasPrefix(o.Key, JobPrefix(o.Prefix, job)) || !strings.HasSuffix(o.Key, ObjectSuffix(o.Suite))):
		return fmt.Errorf("backup %s: key %s is not under %s or does not end in %s", job, o.Key, JobPrefix(o.Prefix, job), ObjectSuffix(o.Suite))
	}
	// Every key is of the job's suite, checked before any work: a mix is a
	// config error (config says where), never a silent switch.
	if ks, err := suite.Of(o.SigningKey); err != nil || ks != o.Suite {
		what := "of no suite"
		if err == nil {
			what = "of suite " + ks.Name()
		}
		return fmt.Errorf("backup %s: the manifest signing key is a key %s, the job's suite is %s", job, what, o.Suite.Name())
	}
	for i, r := range o.Recipients {
		if r == nil {
			return fmt.Errorf("backup %s: recipient %d is nil", job, i+1)
		}
		if r.Suite() != o.Suite {
			return fmt.Errorf("backup %s: recipient %d is a key of suite %s, the job's suite is %s", job, i+1, r.Suite().Name(), o.Suite.Name())
		}
	}
	return nil
}

// recipientStrings names the recipients in the manifest: age1… strings,
// or sm2:<key id>.
func recipientStrings(rs []suite.Recipient) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

// pipeline is the chain the dump writes into: count the SQL, compress
// (hashing the SQL in order on the way), count, encrypt (the suite's), count
// and hash the ciphertext, upload.
type pipeline struct {
	plain     io.Writer
	plainN    *counter
	plainHash hash.Hash
	zw        *frameWriter
	compN     *counter
	aw        io.WriteCloser
	cipherN   *counter
	suite     string // names the encryption layer in errors
}

func newPipeline(dst io.Writer, s suite.Suite, recipients []suite.Recipient, prog *Progress) (*pipeline, error) {
	p := &pipeline{suite: s.Name()}
	var cipherAt, plainAt *atomic.Int64
	if prog != nil {
		cipherAt, plainAt = &prog.cipher, &prog.plain
	}
	p.cipherN = &counter{w: dst, h: sha256.New(), mirror: cipherAt}
	aw, err := s.Encrypt(p.cipherN, recipients)
	if err != nil {
		return nil, fmt.Errorf("encrypt (%s): %w", p.suite, err)
	}
	p.aw = aw
	p.compN = &counter{w: aw}
	p.plainHash = sha256.New()
	zw, err := newFrameWriter(p.compN, p.plainHash, frameSize, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	p.zw = zw
	p.plainN = &counter{w: zw, mirror: plainAt}
	p.plain = p.plainN
	return p, nil
}

// close flushes zstd's last frame and the encryption's last chunk (and,
// sm, its tag).
func (p *pipeline) close() error {
	if err := p.zw.Close(); err != nil {
		p.aw.Close()
		return fmt.Errorf("zstd: %w", err)
	}
	if err := p.aw.Close(); err != nil {
		return fmt.Errorf("encrypt (%s): %w", p.suite, err)
	}
	return nil
}

// abort stops the compressors without flushing.
func (p *pipeline) abort() { p.zw.abort() }

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
	w   *spoolWriter
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
