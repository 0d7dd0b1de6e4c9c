package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"unsafe"
)

func (l *loader) startWorkers() {
	if l.jobs != nil {
		return
	}
	l.jobs = make(chan job)
	for range l.opts.Parallel {
		l.workers.Add(1)
		go l.worker()
	}
}

func (l *loader) stopWorkers() {
	if l.jobs == nil {
		return
	}
	close(l.jobs)
	l.workers.Wait()
}

func (l *loader) worker() {
	defer l.workers.Done()
	conn, err := l.db.Conn(l.ctx)
	if err != nil {
		l.Fail(fmt.Errorf("load: connect: %w", err))
	}
	if conn != nil {
		defer conn.Close()
	}
	applied := 0
	for j := range l.jobs {
		if l.Err() == nil {
			l.runJob(conn, j, &applied)
		}
		l.free <- j.stmt
		l.inflight.Done()
	}
}

func (l *loader) runJob(conn *sql.Conn, j job, applied *int) {
	lerr := func(verb string, err error) {
		l.Fail(newLoadError(j.num, j.line, verb, tableName(j.table), err))
	}
	if *applied < j.version {
		l.sessMu.Lock()
		todo := l.sess[*applied:j.version]
		l.sessMu.Unlock()
		for _, s := range todo {
			if _, err := conn.ExecContext(l.ctx, s); err != nil {
				lerr("SET", err)
				return
			}
		}
		*applied = j.version
	}
	n, err := execRetry(l.ctx, conn, j.stmt)
	if err != nil && j.keys != nil {
		l.Fail(j.keys.loadError(err))
		return
	}
	if err != nil {
		lerr(j.verb, err)
		return
	}
	if j.table != nil && j.keys == nil {
		j.table.rows.Add(n)
	}
}

// execRetry runs an INSERT, again after a deadlock or lock wait timeout
// (the server rolled the statement back; inserts of one table on several
// connections can meet in a gap lock).
func execRetry(ctx context.Context, c *sql.Conn, stmt []byte) (int64, error) {
	// No copy of a statement of up to a few MiB: the driver copies the
	// text into its packet buffer and keeps no reference, and stmt is not
	// touched until this returns.
	q := unsafe.String(unsafe.SliceData(stmt), len(stmt))
	for attempt := 0; ; attempt++ {
		res, err := c.ExecContext(ctx, q)
		if err == nil {
			n, _ := res.RowsAffected()
			return n, nil
		}
		if attempt < 3 && isCode(err, 1213, 1205) {
			continue
		}
		return 0, err
	}
}
