package scheduler

import (
	"net/http"
	"net/url"
	"strings"
)

// RewriteTransport returns a RoundTripper that sends every request to the
// scheme and host of target instead of its own, under target's path if it
// has one, keeping the request's path and query; base (http.DefaultTransport
// when nil) then carries it. It points a client whose base URL is fixed, as
// twilio-go's https://api.twilio.com is, at the emulator or at the server
// named by TWILIO_API_URL. target must be an absolute URL.
func RewriteTransport(base http.RoundTripper, target *url.URL) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &rewriteTransport{
		base:    base,
		scheme:  target.Scheme,
		host:    target.Host,
		path:    strings.TrimSuffix(target.Path, "/"),
		rawPath: strings.TrimSuffix(target.EscapedPath(), "/"),
	}
}

type rewriteTransport struct {
	base          http.RoundTripper
	scheme, host  string
	path, rawPath string // a prefix for every path; empty for none
}

// RoundTrip sends a copy of req with its URL rewritten: a RoundTripper must
// not change the request it is given. The copy shares req's headers and
// body, which it does not change.
func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := *req
	u := *req.URL
	u.Scheme, u.Host = t.scheme, t.host
	if t.path != "" {
		rawPath := t.rawPath + u.EscapedPath()
		u.Path = t.path + u.Path
		u.RawPath = ""
		if rawPath != u.EscapedPath() {
			u.RawPath = rawPath
		}
	}
	out.URL = &u
	out.Host = "" // the Host header follows the new URL
	return t.base.RoundTrip(&out)
}
