package main

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
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
		"tracking/xapi":       {"lessons", "lessons/errs", "tracking"},
		"scheduler":           {"lessons", "lessons/errs", "lessons/sms", "tracking"},
		"scheduler/alerts":    {"tracking"},
		"web":                 {"lessons", "lessons/errs", "lessons/sms", "lessons/video", "tracking", "tracking/reports", "tracking/xapi", "web/pages"},
		"web/pages":           {"lessons", "lessons/errs", "tracking", "tracking/reports"},
		"migrations/dbtest":   {"migrations"},
		// Leaves: they use nothing of Morsel's.
		"lessons/errs": {}, "lessons/sms": {}, "lessons/sms/smstest": {}, "lessons/video": {},
		"migrations": {}, "scheduler/twilioemu": {},
		"cmd/morsel/bench": {"lessons", "migrations", "scheduler", "scheduler/twilioemu", "tracking", "tracking/reports", "web"},
	}
	foreign := map[string][]string{ // what the domain must not import
		"lessons":          {"net/http", "github.com/riverqueue/", "github.com/a-h/templ"},
		"tracking":         {"net/http", "github.com/riverqueue/", "github.com/a-h/templ"},
		"tracking/reports": {"net/http", "github.com/riverqueue/", "github.com/a-h/templ"},
		"tracking/xapi":    {"net/http", "github.com/riverqueue/", "github.com/a-h/templ"},
	}
	// Every package of the module has its row: a new one cannot slip past.
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if _, err := build.ImportDir(path, 0); err != nil {
			return nil // no Go files here
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, ok := allowed[rel]; !ok && rel != "cmd/morsel" && rel != "." {
			t.Errorf("package %s has no row in the README's table of edges (nor in this test)", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the module: %v", err)
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

// SQL has a home: the tables of migrations/postgres are read and written by
// lessons and tracking, which own them; web, scheduler, the command wiring
// and the benchmarks, every package under them, call their methods.
// sqlHomes lists the only exceptions, each with its reason.
func TestSQLHome(t *testing.T) {
	t.Parallel()
	sqlHomes := map[string][]string{
		// 0018_alert_incidents.sql creates these for scheduler/alerts alone:
		// its incidents and the workers' heartbeats are the alerts' own state,
		// which no domain package reads.
		"scheduler/alerts": {"alert_incidents", "worker_heartbeats"},
	}
	var tables []string
	files, err := filepath.Glob(filepath.Join("..", "..", "migrations", "postgres", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Postgres migrations found: %v", err)
	}
	create := regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range create.FindAllStringSubmatch(string(b), -1) {
			tables = append(tables, m[1])
		}
	}
	for _, owned := range sqlHomes {
		for _, table := range owned {
			if !slices.Contains(tables, table) {
				t.Errorf("sqlHomes names %s, which no migration creates", table)
			}
		}
	}
	use := regexp.MustCompile(`\b(?:FROM|JOIN|INTO|UPDATE)\s+(` + strings.Join(tables, "|") + `)\b`)
	root := filepath.Join("..", "..")
	scanned := map[string]bool{}
	for _, top := range []string{"web", "scheduler", "cmd/morsel"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(dir string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			p, err := build.ImportDir(dir, 0)
			if _, none := err.(*build.NoGoError); none {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", dir, err)
			}
			pkg, err := filepath.Rel(root, dir)
			if err != nil {
				return err
			}
			pkg = filepath.ToSlash(pkg)
			scanned[pkg] = true
			for _, name := range p.GoFiles {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					return err
				}
				for _, m := range use.FindAllStringSubmatch(string(b), -1) {
					if !slices.Contains(sqlHomes[pkg], m[1]) {
						t.Errorf("%s/%s uses the table %s (%q): its SQL belongs in the package that owns it", pkg, name, m[1], m[0])
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", top, err)
		}
	}
	for _, pkg := range []string{"web", "web/pages", "scheduler", "scheduler/alerts", "scheduler/twilioemu", "cmd/morsel", "cmd/morsel/bench"} {
		if !scanned[pkg] {
			t.Errorf("%s was not scanned", pkg)
		}
	}
}

// Dependencies are passed in, not reached for: no package exports a
// variable another package could change under it, but its sentinel errors
// (Err...). A default or a list is a function returning a fresh value.
func TestNoExportedVariables(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	var found []string
	sentinels := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					switch {
					case strings.HasPrefix(name.Name, "Err"):
						sentinels++
					case name.IsExported():
						found = append(found, filepath.ToSlash(rel)+"."+name.Name)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read the module's Go files: %v", err)
	}
	if sentinels == 0 {
		t.Fatal("found no Err sentinels at all: the walk is not reading the module")
	}
	for _, v := range found {
		t.Errorf("%s is an exported package variable: make it a function returning a fresh value, or unexport it", v)
	}
}

// A method or function that takes a pgx.Tx is exported only for a caller
// outside its package that must join the transaction, and its doc says whose
// transaction it joins and why ("It joins tx, ...").
func TestExportedTxSaysWhy(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, pkg := range []string{"lessons", "tracking"} {
		p, err := build.ImportDir(filepath.Join("..", "..", pkg), 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, name), nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parse %s/%s: %v", pkg, name, err)
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || !fn.Name.IsExported() || !takesTx(fn.Type.Params) {
					continue
				}
				checked++
				if doc := fn.Doc.Text(); !strings.Contains(doc, "joins tx") {
					t.Errorf("%s.%s takes a pgx.Tx: unexport it, or say in its doc whose transaction it joins and why (\"It joins tx, ...\")", pkg, fn.Name.Name)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("found no exported function taking a pgx.Tx: is the parse reading lessons and tracking?")
	}
}

// takesTx reports whether a parameter list has a pgx.Tx.
func takesTx(params *ast.FieldList) bool {
	for _, f := range params.List {
		if sel, ok := f.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Tx" {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "pgx" {
				return true
			}
		}
	}
	return false
}
