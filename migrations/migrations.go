// Package migrations holds Morsel's schema as numbered SQL files, embedded in the
// binary, and applies them: Postgres (with River's own schema) and ClickHouse.
// Each file is one forward step; applied steps are recorded, so a second run does
// nothing, and a database newer than this binary is refused.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed postgres/*.sql clickhouse/*.sql
var files embed.FS

// Step is one migration file.
type Step struct {
	Version int    // from the file name's leading number
	Name    string // the file name
	SQL     string
}

// Postgres returns the Postgres steps in order.
func Postgres() []Step { return mustSteps("postgres") }

// ClickHouse returns the ClickHouse steps in order.
func ClickHouse() []Step { return mustSteps("clickhouse") }

func mustSteps(dir string) []Step {
	steps, err := readSteps(files, dir)
	if err != nil {
		panic(err) // the files are embedded: a bad name is a build mistake
	}
	return steps
}

func readSteps(fsys fs.FS, dir string) ([]Step, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s migrations: %w", dir, err)
	}
	var steps []Step
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_what.sql", dir, name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s/%s: %w", dir, name, err)
		}
		steps = append(steps, Step{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].Version < steps[j].Version })
	for i, s := range steps {
		if s.Version != i+1 {
			return nil, fmt.Errorf("migration %s/%s: expected version %d (steps are numbered 1, 2, 3... without gaps)", dir, s.Name, i+1)
		}
	}
	return steps, nil
}

// statements splits a ClickHouse migration into its statements: ClickHouse runs
// one statement per query. Statements end with ";" at the end of a line.
func statements(sql string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.SplitSeq(sql, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			out = append(out, stmt)
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
