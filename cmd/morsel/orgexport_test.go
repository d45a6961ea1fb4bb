package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/migrations/dbtest"
)

// rowCounts counts the rows of the tables an export holds, every organisation's.
func rowCounts(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	var b strings.Builder
	for _, table := range []string{"organisations", "users", "teams", "reps", "courses", "course_versions", "course_lessons",
		"enrollments", "assignments", "messages", "attempts", "notes"} {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n))
		fmt.Fprintf(&b, "%s=%d ", table, n)
	}
	return b.String()
}

// TestExportImportRoundTrip: the demo organisation exported, imported into
// a second database and exported from there gives the same file, line for
// line; its rows are all there; importing it again is refused by its slug.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	chURL := dbtest.ClickHouseURL(t)
	source := map[string]string{"DATABASE_URL": dbtest.EmptyPostgresURL(t), "CLICKHOUSE_URL": chURL}
	for _, args := range [][]string{{"migrate"}, {"demo"}} {
		res := morsel(ctx, source, args...)
		require.Equal(t, 0, res.code, res.stderr)
	}
	first := filepath.Join(dir, "first.jsonl")
	res := morsel(ctx, source, "export", "--org", "demo", "-o", first)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "export: rep: 200 rows")
	require.Regexp(t, `export: message: [1-9]\d* rows`, res.stderr)

	target := map[string]string{"DATABASE_URL": dbtest.PostgresURL(t), "CLICKHOUSE_URL": chURL}
	res = morsel(ctx, target, "import", first)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "import: rep: 200 rows")
	require.Contains(t, res.stdout, "morsel rebuild-analytics --org demo")
	require.Equal(t, rowCounts(t, source["DATABASE_URL"]), rowCounts(t, target["DATABASE_URL"]))

	second := filepath.Join(dir, "second.jsonl")
	res = morsel(ctx, target, "export", "--org", "demo", "-o", second)
	require.Equal(t, 0, res.code, res.stderr)
	a, err := os.ReadFile(first)
	require.NoError(t, err)
	b, err := os.ReadFile(second)
	require.NoError(t, err)
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	require.Greater(t, len(al), 1000, "the demo's rows")
	for i := range min(len(al), len(bl)) {
		require.Equal(t, al[i], bl[i], "line %d", i+1)
	}
	require.Equal(t, len(al), len(bl))

	// New rows after an import get new ids.
	res = morsel(ctx, target, "import", "reps", "--org", "demo", writeFile(t, dir, "reps.csv",
		"name,phone,email,team,timezone\nNew Rep,+14155552671,,,America/New_York\n"))
	require.Equal(t, 0, res.code, res.stderr)

	before := rowCounts(t, target["DATABASE_URL"])
	res = morsel(ctx, target, "import", first)
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, `organisation "demo" already exists`)
	require.Equal(t, before, rowCounts(t, target["DATABASE_URL"]))
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// TestImportRefusesBadInput: a bad line is named by its number and nothing
// of the file is written, even when the line comes after rows were.
func TestImportRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	header := `{"type":"morsel-export","version":1,"org":"acme","org_id":7}`
	org := `{"type":"org","row":{"id":7,"slug":"acme","name":"Acme","sms_from":"+15550000000","sms_messaging_service_sid":null,"help_text":"Reply STOP","created_at":"2026-01-01T00:00:00+00:00","sms_mps":1,"twilio_advanced_opt_out":false,"sms_segment_price_micros":7900,"sms_currency":"USD","time_zone":"UTC"}}`
	team := `{"type":"team","row":{"id":3,"org_id":7,"name":"North","created_at":"2026-01-01T00:00:00+00:00"}}`
	rep := `{"type":"rep","row":{"id":5,"org_id":7,"team_id":3,"name":"Ann","phone":"+15550000001","email":"","time_zone":"UTC","status":"active","opted_out_at":null,"created_at":"2026-01-01T00:00:00+00:00","updated_at":"2026-01-01T00:00:00+00:00","phone_invalid_at":null,"phone_invalid_reason":""}}`
	long := `{"type":"note","row":{"body":"` + strings.Repeat("x", 1<<20) + `"}}`
	// Another organisation's course version, in the database before the import.
	other := `INSERT INTO organisations (id, slug, name) OVERRIDING SYSTEM VALUE VALUES (8, 'other', 'Other');
		INSERT INTO courses (id, org_id, slug, title) OVERRIDING SYSTEM VALUE VALUES (1, 8, 'c', 'C');
		INSERT INTO course_versions (id, org_id, course_id, number, title, pass_mark, due_days, cadence_every_days, cadence_times,
			window_start, window_end) OVERRIDING SYSTEM VALUE VALUES (11, 8, 1, 1, 'C', 80, 7, 1, '{540}', 480, 1200)`
	lesson := `{"type":"course_lesson","row":{"id":21,"course_version_id":11,"position":0,"key":"k","kind":"text","title":"Mine now"}}`
	for _, c := range []struct {
		name  string
		setup string
		lines []string
		want  string
	}{
		{"good", "", []string{header, org, team, rep}, ""},
		{"not an export", "", []string{`{"type":"rep"}`}, "line 1: not a Morsel export"},
		{"version", "", []string{`{"type":"morsel-export","version":2,"org":"acme","org_id":7}`}, "line 1: export version 2"},
		{"unknown type", "", []string{header, org, team, `{"type":"robot","row":{}}`}, `line 4: unknown type "robot"`},
		{"not JSON", "", []string{header, org, `{"type":`}, "line 3: not a JSON object"},
		{"missing field", "", []string{header, org, team, strings.Replace(rep, `"phone":"+15550000001",`, "", 1)}, "line 4: rep: no phone"},
		{"bad id", "", []string{header, org, strings.Replace(team, `"id":3`, `"id":-3`, 1)}, "line 3: team: id -3 is not a positive integer"},
		{"other org", "", []string{header, org, strings.Replace(team, `"org_id":7`, `"org_id":8`, 1)}, "line 3: team of organisation 8"},
		{"out of order", "", []string{header, org, team, rep, strings.NewReplacer(`"id":3`, `"id":4`, "North", "South").Replace(team)},
			"line 5: team after rep"},
		{"no org row", "", []string{header, team}, "line 2: the organisation's row must come first"},
		{"too long", "", []string{header, org, team, long}, "line 4: bufio.Scanner: token too long"},
		{"refused by Postgres after rows", "", []string{header, org, team, strings.Replace(rep, `"team_id":3`, `"team_id":4`, 1)},
			"line 4: reps: ERROR: insert or update on table \"reps\" violates foreign key constraint"},
		{"duplicate id", "", []string{header, org, team, rep, strings.Replace(rep, "0001", "0002", 1)}, "line 5: reps: Key (id)=(5) already exists"},
		{"another organisation's row", other, []string{header, org, lesson},
			"line 3: course_lesson: course_version_id 11 is not a row of this export (course_versions)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			environ := map[string]string{"DATABASE_URL": dbtest.PostgresURL(t)}
			if c.setup != "" {
				pool, err := pgxpool.New(ctx, environ["DATABASE_URL"])
				require.NoError(t, err)
				_, err = pool.Exec(ctx, c.setup)
				pool.Close()
				require.NoError(t, err)
			}
			before := rowCounts(t, environ["DATABASE_URL"])
			f := writeFile(t, dir, strings.ReplaceAll(c.name, " ", "_")+".jsonl", strings.Join(c.lines, "\n")+"\n")
			res := morsel(ctx, environ, "import", f)
			if c.want == "" {
				require.Equal(t, 0, res.code, res.stderr)
				require.NotEqual(t, before, rowCounts(t, environ["DATABASE_URL"]))
				// And the next rep made gets an id past the imported one.
				pool, err := pgxpool.New(ctx, environ["DATABASE_URL"])
				require.NoError(t, err)
				defer pool.Close()
				var id int64
				require.NoError(t, pool.QueryRow(ctx, `INSERT INTO reps (org_id, name, phone, time_zone, status)
					VALUES (7, 'Bo', '+15550000009', 'UTC', 'active') RETURNING id`).Scan(&id))
				require.Greater(t, id, int64(5))
				return
			}
			require.Equal(t, 1, res.code, res.stdout)
			require.Contains(t, res.stderr, c.want)
			require.Equal(t, before, rowCounts(t, environ["DATABASE_URL"]), "nothing written")
		})
	}
}
