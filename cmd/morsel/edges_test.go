package main

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The packages' edges are the README's table: the domain packages know
// nothing of HTTP, River or templ, and no package reaches up.
func TestPackageEdges(t *testing.T) {
	t.Parallel()
	const module = "github.com/morselhq/morsel/"
	allowed := map[string][]string{
		"lessons":             {"lessons/errs", "lessons/orderedjson", "lessons/sms", "lessons/video", "tracking"},
		"lessons/orderedjson": {},
		"tracking":            {"lessons/errs"},
		"tracking/reports":    {"lessons/errs", "tracking"},
		"scheduler":           {"lessons", "lessons/errs", "lessons/sms", "tracking"},
		"web":                 {"lessons", "lessons/errs", "lessons/sms", "lessons/video", "tracking", "tracking/reports", "web/pages"},
		"cmd/morsel/bench":    {"lessons", "migrations", "scheduler", "scheduler/twilioemu", "tracking", "tracking/reports", "web"},
	}
	foreign := map[string][]string{ // what the domain must not import
		"lessons":          {"net/http", "github.com/riverqueue/", "github.com/a-h/templ"},
		"tracking":         {"net/http", "github.com/riverqueue/", "github.com/a-h/templ"},
		"tracking/reports": {"net/http", "github.com/riverqueue/", "github.com/a-h/templ"},
	}
	for pkg, ok := range allowed {
		p, err := build.ImportDir(filepath.Join("..", "..", pkg), 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, imp := range p.Imports {
			if rest, ours := strings.CutPrefix(imp, module); ours && !slices.Contains(ok, rest) {
				t.Errorf("%s imports %s, which the README's table of edges does not allow", pkg, rest)
			}
			for _, f := range foreign[pkg] {
				if strings.HasPrefix(imp, f) {
					t.Errorf("%s imports %s: it must know nothing of HTTP, River or templ", pkg, imp)
				}
			}
		}
	}
}
