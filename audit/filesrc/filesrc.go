// Package filesrc turns file trees into streams of UTF-8 text for the detectors.
//
// It walks roots in parallel, decides what each file is from its content (magic
// bytes, then text statistics; never the extension), opens containers (gzip, zstd,
// bzip2, xz, tar, zip, 7z, rar, e-mail), reads documents as they are displayed
// (xlsx, docx, .xls, .doc, OpenDocument, RTF, PDF, dBase; one reader per format,
// each in its own file) and decodes legacy encodings (UTF-16, GB18030, code pages)
// on the fly. SQLite files become Table units for the scanner to judge. Every file
// gets exactly one FileRecord saying whether it was scanned, is encrypted, binary,
// skipped or could not be read, and why; one that could hold text and was not read
// says so in NotRead.
//
// What it must never do: follow a symlink out of a root, hold a whole file or
// container member in memory (PDFs up to 256 MiB excepted: pdfcpu holds their
// objects), follow a decompression bomb, write decompressed plaintext to disk
// (spilled members are encrypted under a throwaway key), write to a file it
// reads (SQLite files are opened through a read-only VFS), or call data
// "encrypted" without a recognised encryption header.
package filesrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/atrest/atrest/audit"
)

// Options tunes a walk. The zero value is usable.
type Options struct {
	// Exclude holds path.Match globs, matched against the slash path relative
	// to the root and against the base name. A directory that matches is pruned.
	Exclude []string
	// Workers is the number of files scanned at once (default GOMAXPROCS).
	Workers int
	// MaxMemberBytes caps the decompressed bytes of one container member or
	// compressed stream (default 1 GiB).
	MaxMemberBytes int64
	// MaxRatio caps decompressed/compressed bytes, checked once more than 1 MiB
	// has come out (default 200).
	MaxRatio int
	// MaxDepth caps container nesting: a zip in a zip in a zip is depth 3
	// (default 3). Every container layer (gzip, zip, tar …) counts.
	MaxDepth int
	// OneFileSystem keeps the walk on the filesystem of each root, like
	// rsync's and ripgrep's --one-file-system: a mount point below a root
	// is reported (skipped) and not descended. Kernel pseudo filesystems
	// (proc, sysfs, devtmpfs …) are never descended from a root elsewhere.
	OneFileSystem bool
}

// Unit is one stream of UTF-8 text to scan: a plain file or one member of a container.
type Unit struct {
	// Path is the file as walked: the root argument joined with the relative path.
	Path string
	// Member is "" for a plain file; otherwise the member inside the file
	// ("导出/名单.csv", "a.zip/b.csv" for nested archives, an xlsx sheet name,
	// "word/document.xml", the inner name of a gzip stream).
	Member string
	// Format is the innermost container the text came from: text, gzip, zstd,
	// bzip2, tar, zip, xlsx, docx. It says what a line is: an xlsx line is a
	// spreadsheet row (line number == row number), a docx line a paragraph.
	Format string
	// Encoding is the encoding the text was decoded from: utf-8, utf-16le,
	// utf-16be, gb18030, or unknown-8bit for ASCII-compatible text in neither.
	Encoding string
	// Text is the decoded UTF-8; lines end in '\n'. It is nil when Table is set.
	Text io.Reader
	// Table is set, instead of Text, for a table of a database file
	// (SQLite): its columns are judged like scan db's, not read as text.
	// The scanner returns the number of columns holding identifiers in
	// plaintext as its findings.
	Table *Table
}

const (
	defaultMaxMemberBytes = 1 << 30
	defaultMaxRatio       = 200
	defaultMaxDepth       = 3
)

// Test seams: tests inject failures that running as root cannot produce.
var (
	openFile = func(name string) (*os.File, error) { return os.Open(name) }
	readDir  = os.ReadDir
)

// Walk walks every root (file or directory) with opts.Workers goroutines. For
// each text unit it calls scan (concurrently; scan returns the number of
// findings it emitted). For every file, and for every container member whose
// state is not "scanned" (with Member set), it calls report once the file is
// done, with Findings summed over its units; unreadable directories are
// reported too. report is called from the worker goroutines; the caller
// serialises. With Workers 1 the order of units and records is fixed:
// directories depth first, entries in name order.
//
// Walk returns an error only for a root that does not exist, a malformed
// exclude pattern, or ctx cancellation; anything wrong with a file is reported
// in its record and the walk goes on.
func Walk(ctx context.Context, roots []string, opts Options, scan func(Unit) (int, error), report func(audit.FileRecord)) error {
	opts = opts.withDefaults()
	for _, p := range opts.Exclude {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("exclude pattern %q: %w", p, err)
		}
	}
	// Check every root before scanning any, so a typo fails the run up front.
	for _, r := range roots {
		if _, err := os.Lstat(r); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", r, fs.ErrNotExist)
		}
	}
	w := &walker{ctx: ctx, opts: opts, scan: scan, report: report}
	jobs := make(chan job, 4*opts.Workers)
	var wg sync.WaitGroup
	for i := 0; i < opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() == nil {
					w.do(j)
				}
			}
		}()
	}
	for _, r := range roots {
		if ctx.Err() != nil {
			break
		}
		w.walkRoot(r, jobs)
	}
	close(jobs)
	wg.Wait()
	return ctx.Err()
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxMemberBytes <= 0 {
		o.MaxMemberBytes = defaultMaxMemberBytes
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = defaultMaxRatio
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = defaultMaxDepth
	}
	return o
}

type walker struct {
	ctx    context.Context
	opts   Options
	scan   func(Unit) (int, error)
	report func(audit.FileRecord)
}

// job is one directory entry for a worker.
type job struct {
	path     string      // root joined with rel
	rootReal string      // the root with symlinks resolved, for containment checks
	mode     fs.FileMode // from Lstat
	size     int64
	err      error  // the entry could not be listed or stat'ed
	skip     string // a directory not descended, and why
}

// rootInfo is what a walk below one root compares each directory with.
type rootInfo struct {
	root, real string
	dev        uint64
	hasDev     bool
	pseudo     bool // the root itself is on a kernel pseudo filesystem: the user asked for it
}

// walkRoot feeds the entries under root to the workers, depth first, each
// directory in name order so that a single worker reports in a fixed order.
func (w *walker) walkRoot(root string, jobs chan<- job) {
	// A root the user named is followed even when it is a symlink.
	fi, err := os.Stat(root)
	if err != nil {
		jobs <- job{path: root, err: err}
		return
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		jobs <- job{path: root, err: err}
		return
	}
	if !fi.IsDir() {
		jobs <- job{path: root, rootReal: filepath.Dir(real), mode: fi.Mode(), size: fi.Size()}
		return
	}
	ri := rootInfo{root: root, real: real}
	ri.dev, ri.hasDev = devOf(fi)
	ri.pseudo = ri.hasDev && pseudoFSOf(root, ri.dev) != ""
	w.walkDir(ri, "", ri.dev, jobs)
}

// crossing says why a directory on device dev, below a directory on device
// parent, is not descended ("" to descend).
func (w *walker) crossing(ri rootInfo, dir string, dev, parent uint64) string {
	if !ri.hasDev || dev == parent {
		return ""
	}
	if t := pseudoFSOf(dir, dev); t != "" && !ri.pseudo {
		return t + " filesystem (kernel pseudo files, not data at rest): not descended; name it as a root to scan it"
	}
	if w.opts.OneFileSystem && dev != ri.dev {
		return "another filesystem (mount point): not descended (--one-file-system)"
	}
	return ""
}

func (w *walker) walkDir(ri rootInfo, rel string, dev uint64, jobs chan<- job) {
	root, rootReal := ri.root, ri.real
	dir := filepath.Join(root, rel)
	ents, err := readDir(dir)
	if err != nil {
		// ReadDir returns what it read before the error; report and go on with it.
		// Errors go through the workers too, to keep the order of records.
		jobs <- job{path: dir, err: err}
	}
	for _, e := range ents {
		if w.ctx.Err() != nil {
			return
		}
		erel := filepath.Join(rel, e.Name())
		if w.excluded(erel) {
			continue
		}
		p := filepath.Join(root, erel)
		if e.IsDir() { // DirEntry.IsDir is false for a symlink to a directory
			sub := dev
			if ri.hasDev {
				fi, err := e.Info()
				if err != nil {
					jobs <- job{path: p, err: err}
					continue
				}
				sub, _ = devOf(fi)
				if why := w.crossing(ri, p, sub, dev); why != "" {
					jobs <- job{path: p, skip: why, mode: fi.Mode()}
					continue
				}
			}
			w.walkDir(ri, erel, sub, jobs)
			continue
		}
		fi, err := e.Info()
		if err != nil {
			jobs <- job{path: p, err: err}
			continue
		}
		jobs <- job{path: p, rootReal: rootReal, mode: fi.Mode(), size: fi.Size()}
	}
}

func (w *walker) excluded(rel string) bool {
	slash := filepath.ToSlash(rel)
	base := path.Base(slash)
	for _, p := range w.opts.Exclude {
		if ok, _ := path.Match(p, slash); ok {
			return true
		}
		if ok, _ := path.Match(p, base); ok {
			return true
		}
	}
	return false
}

// do produces the record of one directory entry.
func (w *walker) do(j job) {
	rec := audit.FileRecord{Record: "file", Path: j.path, Size: j.size}
	switch {
	case j.err != nil:
		rec = errRecord(j.path, j.err)
	case j.skip != "":
		rec.State, rec.Reason, rec.Size = audit.StateSkipped, j.skip, 0
	case j.mode&fs.ModeSymlink != 0:
		rec.State, rec.Reason = audit.StateSkipped, symlinkReason(j.path, j.rootReal)
	case !j.mode.IsRegular():
		rec.State, rec.Reason = audit.StateSkipped, "not a regular file ("+fileKind(j.mode)+")"
	default:
		r, ok := w.file(j.path)
		if !ok {
			return // cancelled mid-file: an incomplete record would mislead
		}
		rec.State, rec.Reason, rec.Format, rec.Encoding, rec.Findings = r.state, r.reason, r.format, r.encoding, r.findings
		rec.NotRead = r.notRead
		if r.size >= 0 {
			rec.Size = r.size
		}
	}
	w.report(rec)
}

// symlinkReason says where a link points when that is inside the root (the
// target is then scanned in its own right); a link out of the root, or to
// nothing, is never followed and its target never named.
func symlinkReason(p, rootReal string) string {
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "symlink (broken)"
	}
	rel, err := filepath.Rel(rootReal, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "symlink"
	}
	return "symlink to " + filepath.ToSlash(rel)
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsDir():
		return "directory"
	}
	return "irregular"
}

func errRecord(p string, err error) audit.FileRecord {
	return audit.FileRecord{Record: "file", Path: p, State: audit.StateError, Reason: errReason(err), NotRead: notReadError}
}

// errReason drops the path from an *fs.PathError: the record already carries it.
func errReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// file opens and classifies one regular file. ok is false when the walk was
// cancelled while the file was being read.
func (w *walker) file(p string) (r result, ok bool) {
	f, err := openFile(p)
	if err != nil {
		return result{state: audit.StateError, reason: errReason(err), notRead: notReadError, size: -1}, true
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return result{state: audit.StateError, reason: errReason(err), notRead: notReadError, size: -1}, true
	}
	if !fi.Mode().IsRegular() { // replaced between Lstat and Open
		return result{state: audit.StateSkipped, reason: "not a regular file (" + fileKind(fi.Mode()) + ")", size: fi.Size()}, true
	}
	fc := &fileCtx{w: w, path: p, budget: budget{in: fi.Size()}}
	if fi.Size() == 0 {
		// proc, sys, FUSE and some network filesystems say 0 for files that
		// have content: read to EOF, and count what came.
		in := &budgetReader{ctx: w.ctx, r: f, fc: fc}
		r = fc.stream(node{format: "text"}, in, nil, -1)
		r.size = fc.budget.in
		return r, w.ctx.Err() == nil
	}
	src := &ctxReaderAt{ctx: w.ctx, r: f}
	r = fc.stream(node{format: "text"}, newSectionReader(src, fi.Size()), src, fi.Size())
	r.size = fi.Size()
	return r, w.ctx.Err() == nil
}

// budgetReader reads a file whose size was not known up front, counting its
// bytes as the file's input for the decompression caps.
type budgetReader struct {
	ctx context.Context
	r   io.Reader
	fc  *fileCtx
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := b.r.Read(p)
	b.fc.budget.in += int64(n)
	return n, err
}
