package postgres

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/engine"
)

// pg_dump's custom format (-Fc), read front to back as pg_restore reads an
// archive from a pipe: a header, the table of contents (every object's
// SQL, in the order a restore runs it), then the data of the TOC entries
// that have data, in TOC order, in blocks of length-prefixed chunks,
// compressed with zlib or zstd (or not at all). The layout is
// pg_backup_archiver.c's ReadHead and ReadToc and pg_backup_custom.c's
// blocks, archive versions 1.12 (PostgreSQL 10) to 1.16 (17).
//
// customScript prints an archive as the psql script pg_restore
// --no-owner --no-privileges would print: what a drill loads. Large
// objects are read and counted, not restored.

const customMagic = "PGDMP"

// Archive versions this reader knows.
const (
	minArchiveVersion = 1<<16 | 12<<8 // 1.12
	maxArchiveVersion = 1<<16 | 16<<8 // 1.16
)

// Compression algorithms of archive version 1.15 and later.
const (
	compressNone = 0
	compressGzip = 1
	compressLZ4  = 2
	compressZstd = 3
)

// Block types.
const (
	blockData  = 1
	blockBlobs = 3
)

// tocEntry is one entry of the table of contents.
type tocEntry struct {
	dumpID    int
	hasData   bool
	tag, desc string
	defn      string
	copyStmt  string
	namespace string
	owner     string
}

// archive reads a custom-format archive.
type archive struct {
	r        *bufio.Reader
	version  int
	intSize  int
	offSize  int
	compress int
	dbName   string
	dumpedBy string // pg_dump's version
	toc      []tocEntry
}

// malformed says what is wrong with an archive's bytes.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: pg_dump archive: %s", engine.ErrMalformed, fmt.Sprintf(format, args...))
}

// eofErr makes an end of input inside the archive a truncation.
func eofErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("pg_dump archive: %w", engine.ErrTruncated)
	}
	return err
}

func (a *archive) byte() (int, error) {
	b, err := a.r.ReadByte()
	return int(b), eofErr(err)
}

// readInt reads pg_dump's int: a sign byte, then intSize bytes, least
// significant first.
func (a *archive) readInt() (int, error) {
	sign, err := a.byte()
	if err != nil {
		return 0, err
	}
	v := 0
	for i := range a.intSize {
		b, err := a.byte()
		if err != nil {
			return 0, err
		}
		if i < 4 {
			v |= b << (8 * i)
		} else if b != 0 {
			return 0, malformed("an integer beyond 32 bits")
		}
	}
	if sign != 0 {
		v = -v
	}
	return v, nil
}

// maxString bounds one string of the archive (an object's definition).
const maxString = 256 << 20

// readStr reads a length and that many bytes; ok is false for NULL.
func (a *archive) readStr() (s string, ok bool, err error) {
	n, err := a.readInt()
	if err != nil || n < 0 {
		return "", false, err
	}
	if n > maxString {
		return "", false, malformed("a string of %d bytes", n)
	}
	// Grow with what arrives: a damaged length must not allocate its
	// claim before the bytes are there.
	var b strings.Builder
	if _, err := io.CopyN(&b, a.r, int64(n)); err != nil {
		return "", false, eofErr(err)
	}
	return b.String(), true, nil
}

func (a *archive) str() (string, error) {
	s, _, err := a.readStr()
	return s, err
}

// readArchive reads the header and the table of contents.
func readArchive(r io.Reader) (*archive, error) {
	a := &archive{r: bufio.NewReaderSize(r, 64<<10)}
	magic := make([]byte, len(customMagic))
	if _, err := io.ReadFull(a.r, magic); err != nil || string(magic) != customMagic {
		if err != nil {
			return nil, eofErr(err)
		}
		return nil, malformed("no PGDMP magic")
	}
	var v [3]int
	for i := range v {
		b, err := a.byte()
		if err != nil {
			return nil, err
		}
		v[i] = b
	}
	a.version = v[0]<<16 | v[1]<<8 | v[2]
	if a.version < minArchiveVersion || a.version > maxArchiveVersion|0xff {
		return nil, malformed("archive version %d.%d.%d: this reader knows 1.12 to 1.16 (pg_dump 10 to 17)", v[0], v[1], v[2])
	}
	var err error
	if a.intSize, err = a.byte(); err != nil {
		return nil, err
	}
	if a.offSize, err = a.byte(); err != nil {
		return nil, err
	}
	if a.intSize < 1 || a.intSize > 8 || a.offSize < 1 || a.offSize > 16 {
		return nil, malformed("integer size %d, offset size %d", a.intSize, a.offSize)
	}
	format, err := a.byte()
	if err != nil {
		return nil, err
	}
	if format != 1 {
		return nil, malformed("format %d is not the custom format (1)", format)
	}
	if a.version >= 1<<16|15<<8 {
		if a.compress, err = a.byte(); err != nil {
			return nil, err
		}
	} else {
		level, err := a.readInt()
		if err != nil {
			return nil, err
		}
		if level != 0 {
			a.compress = compressGzip
		}
	}
	for range 7 { // the creation time, sec … isdst
		if _, err := a.readInt(); err != nil {
			return nil, err
		}
	}
	if a.dbName, err = a.str(); err != nil {
		return nil, err
	}
	if _, err = a.str(); err != nil { // the server's version
		return nil, err
	}
	if a.dumpedBy, err = a.str(); err != nil {
		return nil, err
	}
	return a, a.readTOC()
}

// maxTOC bounds the number of entries (a corrupt count must not make the
// reader allocate for ever).
const maxTOC = 10_000_000

func (a *archive) readTOC() error {
	n, err := a.readInt()
	if err != nil {
		return err
	}
	if n < 0 || n > maxTOC {
		return malformed("%d table of contents entries", n)
	}
	for range n {
		var e tocEntry
		if e.dumpID, err = a.readInt(); err != nil {
			return err
		}
		had, err := a.readInt()
		if err != nil {
			return err
		}
		e.hasData = had != 0
		for range 2 { // table oid, oid
			if _, err := a.str(); err != nil {
				return err
			}
		}
		if e.tag, err = a.str(); err != nil {
			return err
		}
		if e.desc, err = a.str(); err != nil {
			return err
		}
		if _, err := a.readInt(); err != nil { // section
			return err
		}
		if e.defn, err = a.str(); err != nil {
			return err
		}
		if _, err := a.str(); err != nil { // drop statement
			return err
		}
		if e.copyStmt, err = a.str(); err != nil {
			return err
		}
		if e.namespace, err = a.str(); err != nil {
			return err
		}
		if _, err := a.str(); err != nil { // tablespace
			return err
		}
		if a.version >= 1<<16|14<<8 {
			if _, err := a.str(); err != nil { // table access method
				return err
			}
		}
		if a.version >= 1<<16|16<<8 {
			if _, err := a.readInt(); err != nil { // relkind
				return err
			}
		}
		if e.owner, err = a.str(); err != nil {
			return err
		}
		if _, err := a.str(); err != nil { // "with oids", long gone
			return err
		}
		for { // dependencies, a NULL-ended list
			_, ok, err := a.readStr()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
		}
		// The custom format's extra: where the entry's data lies (a flag
		// byte and an offset).
		if flag, err := a.byte(); err != nil {
			return err
		} else if flag < 1 || flag > 3 {
			return malformed("data offset flag %d in entry %d", flag, e.dumpID)
		}
		if _, err := a.r.Discard(a.offSize); err != nil {
			return eofErr(err)
		}
		a.toc = append(a.toc, e)
	}
	return nil
}

// chunks reads one block's length-prefixed chunks up to the empty one.
type chunks struct {
	a    *archive
	left int
	done bool
	n    int64 // bytes read
}

func (c *chunks) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		n, err := c.a.readInt()
		if err != nil {
			return 0, err
		}
		if n < 0 {
			return 0, malformed("a data chunk of %d bytes", n)
		}
		if n == 0 {
			c.done = true
			return 0, io.EOF
		}
		c.left = n
	}
	n, err := c.a.r.Read(p[:min(len(p), c.left)])
	c.left -= n
	c.n += int64(n)
	if err != nil && n > 0 {
		err = nil
	}
	return n, eofErr(err)
}

// data returns a reader of one block's data, decompressed, and a function
// that finishes the block (reads what is left) and says whether it was
// whole.
func (a *archive) data() (io.Reader, func() error, error) {
	raw := &chunks{a: a}
	finish := func(r io.Reader) func() error {
		return func() error {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return decompressErr(err)
			}
			_, err := io.Copy(io.Discard, raw)
			return err
		}
	}
	switch a.compress {
	case compressNone:
		return raw, finish(raw), nil
	case compressGzip:
		zr, err := zlib.NewReader(raw)
		if err != nil {
			return nil, nil, decompressErr(err)
		}
		return errReader{zr}, finish(errReader{zr}), nil
	case compressZstd:
		zr, err := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return nil, nil, decompressErr(err)
		}
		r := errReader{zr.IOReadCloser()}
		return r, func() error { defer zr.Close(); return finish(r)() }, nil
	}
	return nil, nil, malformed("compression algorithm %d: this reader knows none, gzip and zstd (pg_dump -Z lz4 is not read)", a.compress)
}

// errReader makes a decompressor's complaint an archive's.
type errReader struct{ r io.Reader }

func (e errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = decompressErr(err)
	}
	return n, err
}

func decompressErr(err error) error {
	if errors.Is(err, engine.ErrTruncated) || errors.Is(err, engine.ErrMalformed) {
		return err
	}
	if err == io.ErrUnexpectedEOF {
		return eofErr(err)
	}
	return malformed("data does not decompress: %v", err)
}

// blockHeader reads the next data block's type and entry.
func (a *archive) blockHeader() (typ, id int, err error) {
	typ, err = a.byte()
	if err != nil {
		return 0, 0, err
	}
	if typ != blockData && typ != blockBlobs {
		return 0, 0, malformed("block type %d", typ)
	}
	id, err = a.readInt()
	return typ, id, err
}

// customStats counts what an archive held.
type customStats struct {
	entries, blocks, largeObjects int
	dataBytes                     int64
	// owners are the roles that own the archive's objects, which
	// pg_restore without --no-owner gives them to.
	owners []engine.Definer
}

// customScript writes the archive r as the psql script pg_restore
// --no-owner --no-privileges would print, reading every data block and
// checking its compression end to end.
func customScript(r io.Reader, w io.Writer) (*archive, customStats, error) {
	var st customStats
	a, err := readArchive(r)
	if err != nil {
		return nil, st, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	// pg_restore's fixed session settings, around the archive's own.
	fmt.Fprintf(bw, "-- pg_dump custom archive of %s, dumped by pg_dump %s, read by atrest\n", oneLine(a.dbName), oneLine(a.dumpedBy))
	bw.WriteString("SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\n")
	fixed := false
	for _, e := range a.toc {
		st.entries++
		switch e.desc {
		case "ENCODING", "STDSTRINGS", "SEARCHPATH":
			bw.WriteString(e.defn)
			continue
		}
		if !fixed {
			bw.WriteString("SET check_function_bodies = false;\nSET xmloption = content;\nSET client_min_messages = warning;\nSET row_security = off;\n\n")
			fixed = true
		}
		switch e.desc {
		case "DATABASE", "DATABASE PROPERTIES", "ACL", "DEFAULT ACL":
			// Not restored: the drill loads into its own database, as its
			// own user.
		default:
			if e.owner != "" && e.defn != "" && ownedKinds[e.desc] {
				st.owners = engine.AddDefiner(st.owners, e.owner, strings.ToLower(e.desc)+" "+qualifiedTag(e))
			}
			if e.defn != "" {
				bw.WriteString(e.defn)
				bw.WriteString("\n")
			}
		}
		if !e.hasData {
			continue
		}
		if err := a.entryData(e, bw, &st); err != nil {
			return a, st, err
		}
	}
	if err := a.expectEnd(); err != nil {
		return a, st, err
	}
	fmt.Fprintf(bw, "\n%s\n\n", Trailer)
	return a, st, bw.Flush()
}

// entryData reads the data block of entry e: a table's COPY data (or its
// INSERT statements), or large objects.
func (a *archive) entryData(e tocEntry, w *bufio.Writer, st *customStats) error {
	typ, id, err := a.blockHeader()
	if err != nil {
		return err
	}
	if id != e.dumpID {
		return malformed("data block of entry %d where entry %d's was due (an archive written out of order cannot be read from a stream)", id, e.dumpID)
	}
	st.blocks++
	if typ == blockBlobs {
		for {
			oid, err := a.readInt()
			if err != nil {
				return err
			}
			if oid == 0 {
				return nil
			}
			_, finish, err := a.data()
			if err != nil {
				return err
			}
			if err := finish(); err != nil {
				return err
			}
			st.largeObjects++
		}
	}
	r, finish, err := a.data()
	if err != nil {
		return err
	}
	if e.copyStmt != "" {
		w.WriteString(e.copyStmt)
	}
	// pg_dump writes COPY's end marker into the data; should an archive
	// lack it, the SQL after would be taken for rows.
	end := engine.Tail{Max: 8}
	n, err := io.Copy(io.MultiWriter(w, &end), r)
	st.dataBytes += n
	if err != nil {
		return err
	}
	if err := finish(); err != nil {
		return err
	}
	if e.copyStmt != "" && !bytes.HasSuffix(bytes.TrimRight(end.Bytes(), "\n"), []byte("\n\\.")) && string(bytes.TrimRight(end.Bytes(), "\n")) != "\\." {
		w.WriteString("\\.\n")
	}
	w.WriteString("\n")
	return nil
}

// expectEnd: after the last data block, the archive ends.
func (a *archive) expectEnd() error {
	if _, err := a.r.Peek(1); err == io.EOF {
		return nil
	} else if err != nil {
		return err
	}
	return malformed("bytes after the last data block")
}

// loadCustom loads a custom-format archive: its script, printed as it is
// read, streams into the loader.
func loadCustom(ctx context.Context, cfg *pgx.ConnConfig, r io.Reader, opts engine.LoadOptions) (*engine.LoadResult, error) {
	pr, pw := io.Pipe()
	done := make(chan customStats, 1)
	go func() {
		_, st, err := customScript(r, pw)
		pw.CloseWithError(err)
		done <- st
	}()
	res, err := load(ctx, cfg, pr, opts)
	pr.CloseWithError(errors.New("load ended"))
	st := <-done
	if res != nil && st.largeObjects > 0 {
		res.Skipped["large object"] += st.largeObjects
	}
	if res != nil {
		// The script printed has no owners (--no-owner): these are all.
		res.Definers = st.owners
	}
	return res, err
}

// CheckDump reads a pg_dump output, decoded, to its end and says whether
// it is whole: a custom-format archive (PGDMP) must parse, every data block
// decompress and the archive end after the last; a plain-format script
// must end with pg_dump's trailer.
func (Engine) CheckDump(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(len(customMagic)); string(magic) == customMagic {
		a, st, err := customScript(br, io.Discard)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("a pg_dump custom archive (format %d.%d, pg_dump %s): %d entries, %d data blocks decompressed (%d bytes of data), %d large objects",
			a.version>>16, a.version>>8&0xff, oneLine(a.dumpedBy), st.entries, st.blocks, st.dataBytes, st.largeObjects), nil
	}
	t := engine.Tail{Max: 4 << 10}
	if _, err := io.Copy(&t, br); err != nil {
		return "", err
	}
	if !endsWithTrailer(t.Bytes()) {
		return "", fmt.Errorf("%w: the last lines hold no %q: the dump stopped early", engine.ErrTruncated, Trailer)
	}
	return fmt.Sprintf("ending in %q", Trailer), nil
}

// qualifiedTag names an entry's object: schema.tag where it has a schema.
func qualifiedTag(e tocEntry) string {
	if e.namespace == "" {
		return e.tag
	}
	return e.namespace + "." + e.tag
}

// ownedKinds are the entries pg_restore without --no-owner gives to their
// owner (ALTER … OWNER TO); others (constraints, indexes, comments, data)
// carry an owner but get no such statement.
var ownedKinds = map[string]bool{
	"TABLE": true, "VIEW": true, "MATERIALIZED VIEW": true, "SEQUENCE": true, "FOREIGN TABLE": true,
	"FUNCTION": true, "PROCEDURE": true, "AGGREGATE": true, "SCHEMA": true, "TYPE": true, "DOMAIN": true,
	"COLLATION": true, "CONVERSION": true, "OPERATOR": true, "OPERATOR CLASS": true, "OPERATOR FAMILY": true,
	"TEXT SEARCH DICTIONARY": true, "TEXT SEARCH CONFIGURATION": true, "STATISTICS": true,
	"EVENT TRIGGER": true, "PUBLICATION": true,
}
