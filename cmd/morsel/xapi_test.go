package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/xapi"
)

// export-xapi writes every statement of the organisation, and only its, as
// JSON lines, page after page with progress on stderr; the file and
// standard output hold the same lines, and a second run the same again.
func TestExportXAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	environ := map[string]string{"DATABASE_URL": dbtest.PostgresURL(t), "CLICKHOUSE_URL": dbtest.ClickHouseURL(t),
		"PUBLIC_URL": "https://morsel.example/"}
	for _, slug := range []string{"acme", "globex"} {
		res := morsel(ctx, environ, "org", "create", "--slug", slug, "--name", slug)
		require.Equal(t, 0, res.code, res.stderr)
	}
	pool, err := pgxpool.New(ctx, environ["DATABASE_URL"])
	require.NoError(t, err)
	defer pool.Close()
	store := lessons.NewStore(pool, lessons.StoreConfig{})
	acme, err := store.OrgBySlug(ctx, "acme")
	require.NoError(t, err)
	globex, err := store.OrgBySlug(ctx, "globex")
	require.NoError(t, err)
	ch, err := tracking.OpenClickHouse(ctx, environ["CLICKHOUSE_URL"])
	require.NoError(t, err)
	defer ch.Close()

	// 1,500 answers of acme's (more than a page), one of globex's.
	at := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	var events []tracking.Event
	for i := range 1500 {
		events = append(events, tracking.Event{OrgID: acme.ID, RepID: int64(1 + i%30), Kind: tracking.KindGraded,
			Key: tracking.GradeKey(int64(i), 0, int64(i)), OccurredAt: at, AssignmentID: int64(i), LessonID: 1, Value: float64(i % 2),
			Detail: tracking.GradedDetail{Question: 0, Choice: i % 3, Purpose: "question"}.String()})
	}
	events = append(events, tracking.Event{OrgID: globex.ID, RepID: 1, Kind: tracking.KindCourseCompleted, Key: "course/1",
		OccurredAt: at, CourseID: 1, EnrollmentID: 1})
	require.NoError(t, tracking.WriteClickHouse(ctx, pool, ch, events))

	file := filepath.Join(t.TempDir(), "acme.jsonl")
	res := morsel(ctx, environ, "export-xapi", "--org", "acme", "-o", file)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "export-xapi: acme: 1000 statements (reps up to id")
	require.Contains(t, res.stderr, "export-xapi: acme: 1500 statements written to "+file)
	require.Empty(t, res.stdout)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		lines++
		require.Empty(t, xapi.Problems(sc.Bytes()), sc.Text())
		require.Contains(t, sc.Text(), `"homePage":"https://morsel.example"`)
		require.NotContains(t, sc.Text(), xapi.StatementID(globex.ID, 1, "course/1"))
	}
	require.Equal(t, 1500, lines)

	again := morsel(ctx, environ, "export-xapi", "--org", "acme")
	require.Equal(t, 0, again.code, again.stderr)
	require.Equal(t, string(data), again.stdout, "the same statements, ids included, on standard output")

	since := morsel(ctx, environ, "export-xapi", "--org", "acme", "--since", at.Add(time.Second).Format(time.RFC3339))
	require.Equal(t, 0, since.code, since.stderr)
	require.Empty(t, since.stdout)
	require.Contains(t, since.stderr, "0 statements written")

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--org", "acme", "--since", "yesterday"}, `--since "yesterday" is not a time in RFC 3339`},
		{[]string{"--org", "nope"}, "nope"},
	} {
		res := morsel(ctx, environ, append([]string{"export-xapi"}, tt.args...)...)
		require.NotEqual(t, 0, res.code, fmt.Sprint(tt.args))
		require.Contains(t, res.stderr, tt.want)
	}
}
