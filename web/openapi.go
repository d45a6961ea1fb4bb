package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// openAPIJSON describes the JSON API; a test checks it against the routes.
//
//go:embed openapi.json
var openAPIJSON []byte

// openAPIDocument returns the document as served: with publicURL, when set,
// as its server.
func openAPIDocument(publicURL string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		return nil, fmt.Errorf("web: openapi.json: %w", err)
	}
	if publicURL == "" {
		return openAPIJSON, nil
	}
	servers, err := json.Marshal([]map[string]string{{"url": strings.TrimRight(publicURL, "/")}})
	if err != nil {
		return nil, err
	}
	doc["servers"] = servers
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("web: openapi.json: %w", err)
	}
	return out, nil
}

// serveOpenAPI answers GET /api/v1/openapi.json. It needs no API key.
func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*") // for API explorers on other sites
	_, _ = w.Write(s.openAPI)
}
