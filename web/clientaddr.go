package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddress is who a request came from, for the limits: the
// connection's address or, behind a proxy the server was told to trust
// (Deps.TrustProxy), the last address in X-Forwarded-For, the one that proxy
// added. An IPv6 address counts as its /64, which one client holds whole.
func (s *Server) clientAddress(r *http.Request) string {
	raw := r.RemoteAddr
	if host, _, err := net.SplitHostPort(raw); err == nil {
		raw = host
	}
	if s.trustProxy {
		if values := r.Header.Values("X-Forwarded-For"); len(values) > 0 {
			last := values[len(values)-1]
			raw = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
		}
	}
	a, err := netip.ParseAddr(raw)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
