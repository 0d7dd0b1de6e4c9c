package drill

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/atrest/atrest/engine"
)

// ErrSourceServer is wrapped by the error of a drill refused because its
// target is the backup's source server.
var ErrSourceServer = errors.New("the drill target is the source server")

// ScratchPrefix starts the name of every database a drill creates.
const ScratchPrefix = "atrest_drill_"

const markerPrefix = "atrest drill scratch; run="

// maxJobPart keeps scratch names within MySQL's 64 characters (and
// PostgreSQL's 63) with room for a "_N" suffix per further database of a
// multi-database backup.
const maxJobPart = 30

// ScratchName is the scratch database of a drill of job started at t:
// atrest_drill_<job>_<UTC yyyymmddhhmmss>, with the job name reduced to
// letters, digits and underscores.
func ScratchName(job string, t time.Time) string {
	return ScratchPrefix + jobPart(job) + "_" + t.UTC().Format("20060102150405")
}

func jobPart(job string) string {
	b := []byte(job)
	for i, c := range b {
		if !isWord(c) {
			b[i] = '_'
		}
	}
	if len(b) > maxJobPart {
		b = b[:maxJobPart]
	}
	return string(b)
}

// connect identifies the target, refuses the source server, and opens the
// target for this run (which takes the run's lock on it).
func (d *drill) connect() error {
	dsn := d.o.TargetDSN.Reveal()
	srv, err := d.o.Engine.Identify(d.ctx, dsn)
	if err != nil {
		return fmt.Errorf("target: %s", oneLine(err))
	}
	d.rec.Target = fmt.Sprintf("%s:%d (%s)", srv.Host, srv.Port, srv.Version)
	if err := d.checkSource(dsn, srv); err != nil {
		return err
	}
	id := make([]byte, 8)
	rand.Read(id)
	run := engine.Run{ID: hex.EncodeToString(id), Job: d.o.Job.Name, Note: d.note}
	run.Marker = markerPrefix + run.ID + "; job=" + run.Job
	if d.tgt, err = d.o.Engine.Target(d.ctx, dsn, run); err != nil {
		return fmt.Errorf("target: %s", oneLine(err))
	}
	d.base = ScratchName(d.o.Job.Name, d.start)
	return nil
}

// checkSource refuses a target that is the backup's source: the same
// server as the manifest records or as the source DSN reaches (by the
// engine's idea of a server's identity), or the same address as the
// source DSN.
func (d *drill) checkSource(dsn string, tgt engine.Server) error {
	eng := d.o.Engine
	var why []string
	if m := d.chosen.manifest; m != nil && (m.Source.UUID != "" || m.Source.Host != "") {
		src := engine.Server{Version: m.Source.Version, UUID: m.Source.UUID, Host: m.Source.Host, Port: m.Source.Port}
		if s := eng.SameServer(src, tgt); s != "" {
			why = append(why, s+" as the backup's source in its manifest")
		}
	}
	if !d.o.SourceDSN.IsZero() {
		sdsn := d.o.SourceDSN.Reveal()
		a, errA := eng.DSN(sdsn)
		b, errB := eng.DSN(dsn)
		if errA == nil && errB == nil && a.Address != "" && a.Address == b.Address {
			why = append(why, "the source DSN has the same address "+a.Address)
		}
		if src, err := eng.Identify(d.ctx, sdsn); err != nil {
			d.note("could not reach the source to compare it with the target (%s)", oneLine(err))
		} else if s := eng.SameServer(src, tgt); s != "" {
			why = append(why, s+" as the source")
		}
	}
	if len(why) == 0 {
		return nil
	}
	if !d.o.AllowSourceServer {
		return fmt.Errorf("refusing to restore onto %s: %w (%s); give --allow-source-server to restore into scratch databases beside the source's",
			d.rec.Target, ErrSourceServer, strings.Join(why, "; "))
	}
	d.note("the target is the source server (%s); allowed: the drill writes only to its own %s* databases", strings.Join(why, "; "), ScratchPrefix)
	return nil
}

// createScratch creates the run's scratch database.
func (d *drill) createScratch() error {
	err := d.tgt.Create(d.ctx, d.base)
	if errors.Is(err, engine.ErrExists) {
		return fmt.Errorf("target: scratch database %s already exists on the target: refusing to load into a database this drill did not create", d.base)
	}
	if err != nil {
		return fmt.Errorf("target: %s", oneLine(err))
	}
	return nil
}

// sweep drops leftovers of earlier drills of this job that died before
// cleaning up: databases named like this job's scratch databases whose
// marker names this job and whose run holds no lock any more (its session
// is gone). Anything else by that name is left alone, with a note.
func (d *drill) sweep() error {
	ctx, t := d.ctx, d.tgt
	prefix := ScratchPrefix + jobPart(d.o.Job.Name) + "_"
	pat := regexp.MustCompile("^" + regexp.QuoteMeta(prefix) + `[0-9]{14}(_[0-9]+)?$`)
	all, err := t.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("target: list databases: %s", oneLine(err))
	}
	for _, n := range all {
		if !pat.MatchString(n) {
			continue
		}
		comment, ok, err := t.Marker(ctx, n)
		if err != nil {
			return fmt.Errorf("target: read marker of %s: %s", n, oneLine(err))
		}
		if !ok {
			d.note("left %s alone: it has no atrest marker, so this drill cannot prove atrest created it", n)
			continue
		}
		run, job, ok := parseMarker(comment)
		if !ok || job != d.o.Job.Name {
			d.note("left %s alone: its marker does not name job %s", n, d.o.Job.Name)
			continue
		}
		running, err := t.Running(ctx, run)
		if err != nil {
			return fmt.Errorf("target: %s", oneLine(err))
		}
		if running {
			d.note("left %s alone: drill run %s is still running", n, run)
			continue
		}
		if err := t.Drop(ctx, n); err != nil {
			d.note("could not drop leftover %s: %s", n, oneLine(err))
			continue
		}
		d.rec.Cleaned = append(d.rec.Cleaned, n)
	}
	return nil
}

func parseMarker(comment string) (run, job string, ok bool) {
	rest, ok := strings.CutPrefix(comment, markerPrefix)
	if !ok || len(rest) < 16 {
		return "", "", false
	}
	run, rest = rest[:16], rest[16:]
	job, ok = strings.CutPrefix(rest, "; job=")
	return run, job, ok
}
