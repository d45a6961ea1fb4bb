package web_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/web"
)

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths map[string]map[string]struct {
		Security   []map[string][]string      `json:"security"`
		Parameters []map[string]any           `json:"parameters"`
		Responses  map[string]json.RawMessage `json:"responses"`
	} `json:"paths"`
	Components struct {
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		Parameters      map[string]map[string]any  `json:"parameters"`
	} `json:"components"`
}

// TestOpenAPIDescribesEveryRoute holds openapi.json to the routes registered.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	srv := web.New(web.Deps{Store: &lessons.Store{}, Logger: quiet})
	res := serve(srv, "GET", "/api/v1/openapi.json", "")
	require.Equal(t, http.StatusOK, res.status)
	var doc openAPIDoc
	res.decode(t, &doc)
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3.0."), doc.OpenAPI)
	require.Contains(t, doc.Components.SecuritySchemes, "bearerAuth")

	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			name := strings.ToUpper(method) + " " + path
			documented = append(documented, name)
			require.Contains(t, op.Responses, "401", "%s has no 401 response", name)
			require.NotEmpty(t, op.Security, "%s has no security", name)
			require.Contains(t, op.Security[0], "bearerAuth", name)
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				require.Truef(t, slices.ContainsFunc(op.Parameters, func(p map[string]any) bool {
					if ref, ok := p["$ref"].(string); ok {
						p = doc.Components.Parameters[strings.TrimPrefix(ref, "#/components/parameters/")]
					}
					return p["in"] == "path" && p["name"] == m[1]
				}), "%s does not describe its path parameter %s", name, m[1])
			}
		}
	}
	var registered []string
	for _, r := range web.APIRoutes(srv) {
		registered = append(registered, r.Method+" "+r.Pattern) // {id} is written the same way
	}
	slices.Sort(documented)
	slices.Sort(registered)
	require.Equal(t, registered, documented)
}

// TestOpenAPIRefsResolve checks that every $ref names a component that exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	res := serve(web.New(web.Deps{Store: &lessons.Store{}, Logger: quiet}), "GET", "/api/v1/openapi.json", "")
	var doc map[string]any
	res.decode(t, &doc)
	components := doc["components"].(map[string]any)
	refs := regexp.MustCompile(`"\$ref":\s*"#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(res.body), -1)
	require.NotEmpty(t, refs)
	for _, ref := range refs {
		section, ok := components[ref[1]].(map[string]any)
		require.True(t, ok, "no components.%s", ref[1])
		require.Contains(t, section, ref[2], "$ref %s/%s", ref[1], ref[2])
	}
}

func TestOpenAPIServerIsThePublicURL(t *testing.T) {
	t.Parallel()
	srv := web.New(web.Deps{Store: &lessons.Store{}, Logger: quiet, PublicURL: "https://morsel.example/"})
	var doc openAPIDoc
	serve(srv, "GET", "/api/v1/openapi.json", "").decode(t, &doc)
	require.Len(t, doc.Servers, 1)
	require.Equal(t, "https://morsel.example", doc.Servers[0].URL)
	require.NotEmpty(t, doc.Paths)
}
