package web

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/morselhq/morsel/lessons/errs"
)

// A lesson page reports video progress with pings to POST /t/pings: one ping
// per 15-second segment played, and one per pause and end. The handler here
// reads the body; each ping is parsed and checked (pingparse.go, with its fast
// reader pingjson.go), checked against its link (cached, linkcache.go, so that
// pings cost no query), limited (pinglimits.go), made an event
// (pingevents.go), and written durably to the events outbox before the answer.

const (
	maxPingBody     = 64 << 10
	maxPingsPerPost = 100
	maxLinksPerPost = 4  // distinct links one request's pings may name
	maxPingDetails  = 20 // problems named in one 400 answer
	pingWriteWait   = 5 * time.Second
)

// pings answers POST /t/pings: 204 once the pings are durably stored, 400
// naming the bad pings (none is stored), 429 over a limit (pinglimits.go),
// 503 when the events cannot be written.
func (s *Server) pings(w http.ResponseWriter, r *http.Request) {
	l := s.lessonLinks
	if l.ingester == nil {
		s.writeAPIError(w, r, errs.Errorf(errs.Unavailable, "Progress tracking is not available."))
		return
	}
	buf, err := readPingBody(w, r)
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	ps, single, err := parsePings(*buf)
	putPingBody(buf) // the pings hold copies
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	links := linksOf(ps)
	if err := links.tooMany(); err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	if refused := l.allow(links, ps); refused != nil {
		refused.write(w)
		return
	}
	if err := l.lookup(r.Context(), links, s.clientAddress(r)); err != nil {
		var refused *pingRefused
		if errors.As(err, &refused) {
			refused.write(w)
			return
		}
		s.writeAPIError(w, r, err)
		return
	}
	if err := checkLinks(ps, links, single); err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	if err := l.ingester.WriteWithin(r.Context(), pingWriteWait, pingEvents(ps, links, l.now())); err != nil {
		s.log.WarnContext(r.Context(), "write pings", slog.Int("pings", len(ps)), slog.Any("error", err))
		s.writeAPIError(w, r, errs.Errorf(errs.Unavailable, "The pings could not be stored; send them again."))
		return
	}
	s.metrics.pingsAccepted(len(ps))
	w.WriteHeader(http.StatusNoContent)
}

// pingBodies holds buffers for ping bodies, which are read by the thousand
// a second and parsed into copies at once.
var pingBodies = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// readPingBody reads the body, as readBody does, into a buffer of
// pingBodies, which putPingBody gives back.
func readPingBody(w http.ResponseWriter, r *http.Request) (*[]byte, error) {
	buf := pingBodies.Get().(*[]byte)
	b := (*buf)[:0]
	body := http.MaxBytesReader(w, r.Body, maxPingBody)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*buf = b
			return buf, nil
		}
		if err != nil {
			*buf = b
			putPingBody(buf)
			return nil, fmt.Errorf("read request body: %w", err)
		}
	}
}

// putPingBody gives a buffer back to pingBodies, unless it grew large.
func putPingBody(buf *[]byte) {
	if cap(*buf) <= 16<<10 {
		*buf = (*buf)[:0]
		pingBodies.Put(buf)
	}
}
