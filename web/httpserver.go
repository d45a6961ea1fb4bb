package web

import (
	"net/http"
	"time"
)

// Timeouts bound how long a client may hold a connection: to send its
// request's headers, its whole request, to read the answer, and idle between
// requests. An upload (a rep file, a course file, a video) may take Upload to
// arrive, and a video Upload to be read.
type Timeouts struct {
	ReadHeader, Read, Write, Idle, Upload time.Duration
}

// DefaultTimeouts returns production's: a request body trickled in is cut
// off after 30 s, an idle keep-alive connection after 90 s.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: time.Minute,
		Idle: 90 * time.Second, Upload: 15 * time.Minute}
}

// HTTPServer returns the HTTP server for the handler, with the timeouts
// (DefaultTimeouts' where a field is zero).
func (s *Server) HTTPServer(t Timeouts) *http.Server {
	d := DefaultTimeouts()
	for _, f := range []struct{ got, def *time.Duration }{
		{&t.ReadHeader, &d.ReadHeader}, {&t.Read, &d.Read}, {&t.Write, &d.Write}, {&t.Idle, &d.Idle}, {&t.Upload, &d.Upload},
	} {
		if *f.got <= 0 {
			*f.got = *f.def
		}
	}
	s.uploadTimeout = t.Upload
	return &http.Server{Handler: s.Handler(), ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle}
}

// allowUpload gives the request's body the upload timeout to arrive, and its
// answer as long to be read, in place of the server's shorter ones.
func (s *Server) allowUpload(w http.ResponseWriter) {
	d := s.uploadTimeout
	if d <= 0 {
		d = DefaultTimeouts().Upload
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(d)) // not every writer has deadlines (tests' recorders)
	_ = rc.SetWriteDeadline(time.Now().Add(d))
}
