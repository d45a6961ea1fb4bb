package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/web"
	"github.com/morselhq/morsel/web/pages"
)

// dashBundle is an organisation with two teams, six reps in ClickHouse, and
// users of each role; events are what the test wrote, kept to recount.
type dashBundle struct {
	testBundle
	ch                      driver.Conn
	srv                     *web.Server
	north, south            int64
	admin, manager, trainer string // sessions
	otherAdmin              string
	events                  []tracking.Event
	now                     time.Time
}

const dashCourse = 7

func setupDashboard(t *testing.T) *dashBundle {
	t.Helper()
	ctx := context.Background()
	b := &dashBundle{testBundle: setup(t), ch: dbtest.ClickHouse(t), now: time.Now().UTC().Truncate(time.Second)}
	for _, table := range []string{"events", "assignment_progress", "enrollment_progress", "rep_summary", "reps", "enrollments"} {
		require.NoError(t, b.ch.Exec(ctx, `SYSTEM STOP MERGES `+table))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(b.logs.String())
		}
	})
	b.srv = web.New(web.Deps{Store: b.store, ClickHouse: b.ch, Pool: b.pool, Logger: slog.New(slog.NewTextHandler(b.logs, nil))})
	b.admin = sessionOf(t, b.testBundle, newUser(t, b.testBundle, b.org.ID, lessons.RoleAdmin, "admin@acme.test", "correct horse 1"))
	b.manager = sessionOf(t, b.testBundle, newUser(t, b.testBundle, b.org.ID, lessons.RoleManager, "north@acme.test", "correct horse 2", "North"))
	b.trainer = sessionOf(t, b.testBundle, newUser(t, b.testBundle, b.org.ID, lessons.RoleTrainer, "trainer@acme.test", "correct horse 3"))
	b.otherAdmin = sessionOf(t, b.testBundle, newUser(t, b.testBundle, b.other.ID, lessons.RoleAdmin, "admin@globex.test", "correct horse 4"))
	_, err := b.store.CreateTeam(ctx, b.org.ID, "South")
	require.NoError(t, err)
	teams, err := b.store.Teams(ctx, b.org.ID)
	require.NoError(t, err)
	for _, team := range teams {
		if team.Name == "North" {
			b.north = team.ID
		} else {
			b.south = team.ID
		}
	}

	day := func(n int) time.Time { return b.now.Add(time.Duration(n) * 24 * time.Hour) }
	soon, past := day(5).Format(time.DateOnly), day(-2).Format(time.DateOnly)
	type rep struct {
		id              int64
		team            int64
		name            string
		due             string
		optedOut, stale bool
	}
	reps := []rep{
		{101, b.north, "Ana Lopez", soon, false, false}, {102, b.north, "Ben Loft", past, false, false},
		{103, b.north, "Lola Kim", soon, false, false}, {104, b.south, "Lou Reed", soon, true, false},
		{105, b.south, "Sam Lee", soon, false, true}, {106, b.south, "Leo Ng", soon, false, false},
	}
	for _, r := range reps {
		names := map[int64]string{b.north: "North", b.south: "South"}
		f := tracking.RepFacts{OrgID: b.org.ID, RepID: r.id, TeamID: r.team, Team: names[r.team], Status: "active", Name: r.name,
			Phone: fmt.Sprintf("+1202555%04d", r.id), Email: fmt.Sprintf("rep%d@acme.test", r.id), TimeZone: "UTC",
			OptedOut: r.optedOut, PhoneInvalid: r.stale}
		e := tracking.EnrollmentFacts{OrgID: b.org.ID, RepID: r.id, EnrollmentID: r.id * 10, CourseID: dashCourse, CourseVersionID: 70,
			CourseTitle: "Compliance", Status: "active", EnrolledAt: day(-10), DueOn: r.due, Lessons: 2, Segments: 4}
		b.write(t, f.Event(day(-10)), e.Event(day(-10)))
	}
	ev := func(rep, a int64, kind, key string, at time.Time, value float64) tracking.Event {
		return tracking.Event{OrgID: b.org.ID, RepID: rep, Key: key, Kind: kind, OccurredAt: at, CourseID: dashCourse,
			EnrollmentID: rep * 10, AssignmentID: a, LessonID: a, Value: value}
	}
	b.write(t,
		// Ana: both lessons done, one quiz answer right.
		ev(101, 1, tracking.KindMessageSent, "msg/1/message_sent", day(-9), 0),
		ev(101, 1, tracking.KindLessonCompleted, "done/1", day(-9), 0),
		ev(101, 2, tracking.KindMessageSent, "msg/2/message_sent", day(-8), 0),
		ev(101, 2, tracking.KindGraded, "grade/2/0/2", day(-8), 1),
		ev(101, 2, tracking.KindLessonCompleted, "done/2", day(-8), 0),
		// Ben: overdue, opened the first lesson.
		ev(102, 3, tracking.KindMessageSent, "msg/3/message_sent", day(-9), 0),
		ev(102, 3, tracking.KindLessonOpened, "open/3", day(-9), 0),
		// Lola: two lessons sent and nothing done: behind; half the video watched.
		ev(103, 5, tracking.KindMessageSent, "msg/5/message_sent", day(-6), 0),
		ev(103, 6, tracking.KindMessageSent, "msg/6/message_sent", day(-5), 0),
		ev(103, 6, tracking.KindSegmentWatched, "seg/6/0", day(-5), 0),
		ev(103, 6, tracking.KindSegmentWatched, "seg/6/1", day(-5), 1),
		// Leo: on track, active today.
		ev(106, 11, tracking.KindMessageSent, "msg/11/message_sent", b.now.Add(-time.Hour), 0),
		ev(106, 11, tracking.KindLessonOpened, "open/11", b.now.Add(-time.Minute), 0),
	)
	return b
}

// write writes events as the shipper does and keeps them for recounts.
func (b *dashBundle) write(t *testing.T, events ...tracking.Event) {
	t.Helper()
	for i := range events {
		if events[i].Version == 0 {
			events[i].Version = uint64(time.Now().UnixNano()) + uint64(i)
		}
	}
	require.NoError(t, tracking.WriteClickHouse(context.Background(), b.pool, b.ch, events))
	b.events = append(b.events, events...)
}

func (b *dashBundle) get(path, session string, headers ...string) response {
	return servePage(b.srv, "GET", path, session, nil, headers...)
}

// recount computes the overview's figures from the events the test wrote,
// newest version of each key, tombstones out: independently of the rollups.
func (b *dashBundle) recount() map[string]int {
	latest := map[string]tracking.Event{}
	for _, e := range b.events {
		k := fmt.Sprint(e.RepID, "/", e.Key)
		if old, ok := latest[k]; !ok || e.Version > old.Version {
			latest[k] = e
		}
	}
	type rep struct {
		removed, optedOut, invalid bool
		due                        string
		sent, opened, done         map[int64]bool
	}
	reps := map[int64]*rep{}
	at := func(id int64) *rep {
		if reps[id] == nil {
			reps[id] = &rep{sent: map[int64]bool{}, opened: map[int64]bool{}, done: map[int64]bool{}}
		}
		return reps[id]
	}
	for _, e := range latest {
		if e.Deleted {
			continue
		}
		r := at(e.RepID)
		switch e.Kind {
		case tracking.KindRepChanged:
			r.removed = strings.Contains(e.Detail, `"status":"removed"`)
			r.optedOut = strings.Contains(e.Detail, `"opted_out":true`)
			r.invalid = strings.Contains(e.Detail, `"phone_invalid":true`)
		case tracking.KindEnrollmentChanged:
			r.due = regexp.MustCompile(`"due_on":"([0-9-]+)"`).FindStringSubmatch(e.Detail)[1]
		case tracking.KindMessageSent:
			r.sent[e.AssignmentID] = true
		case tracking.KindLessonOpened:
			r.opened[e.AssignmentID] = true
		case tracking.KindLessonCompleted:
			r.done[e.AssignmentID] = true
		}
	}
	out := map[string]int{}
	today := b.now.Format(time.DateOnly)
	for _, r := range reps {
		if r.removed {
			continue
		}
		out["enrolled"]++
		finished := len(r.done) >= 2
		switch {
		case finished:
			out["completed"]++
		case len(r.opened) > 0 || len(r.done) > 0:
			out["in_progress"]++
		default:
			out["not_started"]++
		}
		if !finished && r.due < today {
			out["overdue"]++
		}
		if r.optedOut {
			out["opted_out"]++
		}
		if r.invalid {
			out["undeliverable"]++
		}
	}
	return out
}

var figureRE = regexp.MustCompile(`data-figure="([a-z_]+)"[^>]*>.*?data-value="(\d+)"`)

// figures reads the overview's figures of the course from the page.
func figures(t *testing.T, body []byte) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range figureRE.FindAllSubmatch(body, -1) {
		n, err := strconv.Atoi(string(m[2]))
		require.NoError(t, err)
		out[string(m[1])] = n
	}
	require.NotEmpty(t, out, "no figures on the page: %s", body)
	return out
}

var repRowRE = regexp.MustCompile(`data-testid="rep-row" data-rep="(\d+)"`)

func rowReps(body []byte) []string {
	var out []string
	for _, m := range repRowRE.FindAllSubmatch(body, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// The overview's figures equal a recount from the raw events after a
// correction, a void, a backfill and a rep removal, before any merge.
func TestDashboardTruth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupDashboard(t)
	check := func(step string) {
		t.Helper()
		res := b.get("/dashboard", b.admin)
		require.Equal(t, http.StatusOK, res.status, "%s: %s", step, res.body)
		want := b.recount()
		got := figures(t, res.body)
		for _, k := range []string{"completed", "in_progress", "not_started", "overdue", "opted_out", "undeliverable"} {
			require.Equal(t, want[k], got[k], "%s: %s", step, k)
		}
		require.Equal(t, want["enrolled"], got["enrolled"], step)
	}
	check("as written")
	require.Equal(t, map[string]int{"enrolled": 6, "completed": 1, "in_progress": 2, "not_started": 3, "overdue": 1, "opted_out": 1, "undeliverable": 1},
		figures(t, b.get("/dashboard", b.admin).body), "the hand-counted figures")

	// A correction: Ana's first lesson was never done.
	corrected := tracking.Event{OrgID: b.org.ID, RepID: 101, Key: "done/1", Kind: tracking.KindLessonOpened, OccurredAt: b.now.Add(-9 * 24 * time.Hour),
		CourseID: dashCourse, EnrollmentID: 1010, AssignmentID: 1, LessonID: 1}
	row, err := tracking.Correct(ctx, b.pool, b.ch, time.Now(), b.org.ID, corrected)
	require.NoError(t, err)
	b.events = append(b.events, row)
	check("after a correction")
	require.Regexp(t, `data-key="done/1"[^>]*>(?s:.*?)data-testid="replaced"`, string(b.get("/dashboard/reps/101", b.admin).body),
		"the rep page shows what the correction replaced")

	// A void: Ben never opened his lesson.
	tomb, err := tracking.Void(ctx, b.pool, b.ch, time.Now(), b.org.ID, "open/3", 102, "opened by a link preview", "test")
	require.NoError(t, err)
	b.events = append(b.events, tomb)
	check("after a void")
	story := b.get("/dashboard/reps/102", b.admin)
	require.Equal(t, http.StatusOK, story.status)
	require.Contains(t, string(story.body), "voided ")
	require.Contains(t, string(story.body), "by test: opened by a link preview", "the void shows who and why")

	// A backfill: Lola did both lessons, offline.
	backfill := []tracking.Event{
		{OrgID: b.org.ID, RepID: 103, Key: "done/5", Kind: tracking.KindLessonCompleted, OccurredAt: b.now.Add(-4 * 24 * time.Hour), CourseID: dashCourse, EnrollmentID: 1030, AssignmentID: 5, LessonID: 5},
		{OrgID: b.org.ID, RepID: 103, Key: "done/6", Kind: tracking.KindLessonCompleted, OccurredAt: b.now.Add(-4 * 24 * time.Hour), CourseID: dashCourse, EnrollmentID: 1030, AssignmentID: 6, LessonID: 6},
	}
	_, err = tracking.Backfill(ctx, b.pool, b.ch, time.Now(), b.org.ID, backfill)
	require.NoError(t, err)
	for _, e := range backfill {
		e.Version = uint64(e.OccurredAt.UnixNano())
		b.events = append(b.events, e)
	}
	check("after a backfill")

	// A removal: Leo leaves.
	b.write(t, tracking.RepFacts{OrgID: b.org.ID, RepID: 106, TeamID: b.south, Team: "South", Status: "removed", Name: "Leo Ng", TimeZone: "UTC"}.Event(b.now))
	check("after a removal")
	require.Equal(t, http.StatusNotFound, b.get("/dashboard/reps/106", b.admin).status, "a removed rep has no page")
	require.NotContains(t, rowReps(b.get("/dashboard/reps", b.admin).body), "106")
}

// Every dashboard route, fragment and search keeps to the user's scope.
func TestDashboardPermissions(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	southTeam := strconv.FormatInt(b.south, 10)
	routes := []string{"/dashboard", "/dashboard/reps", "/dashboard/reps?status=overdue", "/dashboard/search?q=lo", "/dashboard/reps/101"}
	for _, path := range routes {
		res := b.get(path, "")
		require.Equal(t, http.StatusSeeOther, res.status, path)
		require.Equal(t, "/signin?next="+url.QueryEscape(path), res.header.Get("Location"), path)
	}
	tests := []struct {
		name, session, path string
		fragment            bool
		status              int
		want, not           []string // in and not in the body
	}{
		{"manager overview", b.manager, "/dashboard", false, 200, []string{`data-value="3"`}, []string{"Lou Reed"}},
		{"manager table", b.manager, "/dashboard/reps", false, 200, []string{"Ana Lopez", "Lola Kim"}, []string{"Lou Reed", "Sam Lee", "Leo Ng"}},
		{"manager table fragment", b.manager, "/dashboard/reps?sort=status", true, 200, []string{"Ben Loft"}, []string{"Lou Reed", "<html"}},
		{"manager other team", b.manager, "/dashboard/reps?team=" + southTeam, false, 404, nil, []string{"Lou Reed"}},
		{"manager overview other team", b.manager, "/dashboard?team=" + southTeam, false, 404, nil, []string{"Lou Reed"}},
		{"manager other team's rep", b.manager, "/dashboard/reps/104", false, 404, nil, []string{"Lou Reed"}},
		{"manager own rep", b.manager, "/dashboard/reps/101", false, 200, []string{"Ana Lopez", "+12025550101", "rep101@acme.test"}, nil},
		{"manager search", b.manager, "/dashboard/search?q=lo", false, 200, []string{"Lola Kim", "Ana Lopez", "Ben Loft"}, []string{"Lou Reed", "Leo Ng"}},
		{"manager search fragment", b.manager, "/dashboard/search?q=lo", true, 200, []string{"Lola Kim"}, []string{"Lou Reed", "<html"}},
		{"manager search by phone", b.manager, "/dashboard/search?q=0104", true, 200, nil, []string{"Lou Reed"}},
		{"admin search by phone", b.admin, "/dashboard/search?q=0104", true, 200, []string{"Lou Reed"}, nil},
		{"trainer rep page", b.trainer, "/dashboard/reps/104", false, 200, []string{"Lou Reed"}, []string{"+12025550104", "rep104@acme.test"}},
		{"trainer search", b.trainer, "/dashboard/search?q=lou", false, 200, []string{"Lou Reed"}, []string{"+12025550104", "rep104@acme.test"}},
		{"trainer search by phone", b.trainer, "/dashboard/search?q=0104", true, 200, nil, []string{"Lou Reed"}},
		{"trainer search by email", b.trainer, "/dashboard/search?q=rep104", true, 200, nil, []string{"Lou Reed"}},
		{"other organisation's rep", b.otherAdmin, "/dashboard/reps/101", false, 404, nil, []string{"Ana Lopez"}},
		{"other organisation's table", b.otherAdmin, "/dashboard/reps", false, 200, []string{"no-rows"}, []string{"Ana Lopez"}},
		{"other organisation's search", b.otherAdmin, "/dashboard/search?q=a", false, 200, nil, []string{"Ana Lopez"}},
		{"other organisation's team", b.otherAdmin, "/dashboard?team=" + southTeam, false, 404, nil, []string{"Lou Reed"}},
		{"bad status", b.admin, "/dashboard/reps?status=lost", false, 400, []string{"status", "lost", "on_track"}, nil},
		{"bad cursor", b.admin, "/dashboard/reps?after=%25%25", false, 400, []string{"after"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.fragment {
				headers = []string{"HX-Request", "true"}
			}
			res := b.get(tt.path, tt.session, headers...)
			require.Equal(t, tt.status, res.status, "body: %s", res.body)
			for _, s := range tt.want {
				require.Contains(t, string(res.body), s)
			}
			for _, s := range tt.not {
				require.NotContains(t, string(res.body), s)
			}
		})
	}
}

// The rep table pages by keyset, sorts by any column and filters, all in
// the URL; search ranks the recently active first.
func TestDashboardTableAndSearch(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	var seen []string
	next := "/dashboard/reps?sort=name"
	pageRE := regexp.MustCompile(`href="(/dashboard/reps\?[^"]*after=[^"]*)" rel="next"`)
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 10)
		res := b.get(strings.ReplaceAll(next, "&amp;", "&"), b.admin)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		seen = append(seen, rowReps(res.body)...)
		next = ""
		if m := pageRE.FindSubmatch(res.body); m != nil {
			next = string(m[1])
		}
	}
	require.Equal(t, []string{"101", "102", "106", "103", "104", "105"}, seen, "by name, every row once")

	// Sort by status both ways, and filter.
	res := b.get("/dashboard/reps?sort=status", b.admin)
	require.Equal(t, []string{"102", "103", "105", "104", "106", "101"}, rowReps(res.body), "overdue, behind, undeliverable, opted out, on track, done")
	res = b.get("/dashboard/reps?sort=status&dir=desc", b.admin)
	require.Equal(t, []string{"101", "106", "104", "105", "103", "102"}, rowReps(res.body))
	// Every column sorts both ways, over rows with and without quiz answers,
	// videos and due dates; each order holds every row once.
	for _, col := range []string{"name", "team", "course", "progress", "quiz", "video", "activity", "due", "status"} {
		for _, dir := range []string{"asc", "desc"} {
			res := b.get("/dashboard/reps?sort="+col+"&dir="+dir, b.admin)
			require.Equal(t, http.StatusOK, res.status, "sort by %s %s: %s", col, dir, res.body)
			require.ElementsMatch(t, []string{"101", "102", "103", "104", "105", "106"}, rowReps(res.body), "sort by %s %s", col, dir)
		}
	}
	res = b.get("/dashboard/reps?sort=quiz&dir=desc", b.admin)
	require.Equal(t, "101", rowReps(res.body)[0], "the one right answer first")
	res = b.get("/dashboard/reps?team=&course=&status=behind&due=", b.admin, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.Equal(t, "/dashboard/reps?status=behind", res.header.Get("HX-Push-Url"), "the form's empty fields stay out of the address")
	res = b.get("/dashboard/reps?status=behind", b.admin)
	require.Equal(t, []string{"103"}, rowReps(res.body))
	res = b.get("/dashboard/reps?team="+strconv.FormatInt(b.south, 10)+"&sort=activity&dir=desc", b.admin)
	require.Equal(t, []string{"106", "105", "104"}, rowReps(res.body), "ties in rep order, reversed too")
	res = b.get("/dashboard/reps?due=3", b.admin)
	require.Empty(t, rowReps(res.body), "nothing due within 3 days")
	res = b.get("/dashboard/reps?due=7&team="+strconv.FormatInt(b.north, 10), b.admin)
	require.Equal(t, []string{"103"}, rowReps(res.body), "due within 7 days and not done")

	// "l": Leo Ng (active today) before namesakes idle for days.
	res = b.get("/dashboard/search?q=l", b.admin, "HX-Request", "true")
	matches := regexp.MustCompile(`data-testid="match" data-rep="(\d+)"`).FindAllSubmatch(res.body, -1)
	require.NotEmpty(t, matches)
	require.Equal(t, "106", string(matches[0][1]), "recent activity first: %s", res.body)
}

// With ClickHouse gone the dashboard says so quickly, and lessons and pings
// still work.
func TestDashboardClickHouseDown(t *testing.T) {
	t.Parallel()
	lb := setupLessons(t)
	down, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:1"}, DialTimeout: time.Second})
	require.NoError(t, err)
	ingester := tracking.NewIngester(lb.pool, quiet, 1)
	t.Cleanup(ingester.Stop)
	srv := httptest.NewServer(web.New(web.Deps{Store: lb.store, ClickHouse: down, Pool: lb.pool, Ingester: ingester, Logger: quiet}).Handler())
	t.Cleanup(srv.Close)
	admin := newUser(t, testBundle{store: lb.store}, lb.orgID, lessons.RoleAdmin, "admin@acme.test", "correct horse 1")
	sess, err := lb.store.StartSession(context.Background(), admin)
	require.NoError(t, err)
	for _, path := range []string{"/dashboard", "/dashboard/reps", "/dashboard/search?q=a", "/dashboard/reps/1"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "morsel_session", Value: sess.Token})
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body := readAll(t, res)
		res.Body.Close()
		require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, path)
		require.Contains(t, string(body), "Nothing is lost", path)
		require.Less(t, time.Since(start), 5*time.Second, "%s answers quickly", path)
	}
	res, err := http.Get(srv.URL + "/l/" + lb.tokens["intro"])
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "a lesson page still works")
	res, err = http.Post(srv.URL+"/t/pings", "text/plain;charset=UTF-8",
		strings.NewReader(mustJSON(t, pingBody(lb.tokens["video"], 0, 15.25, 1, "0123456789abcdef01234567", "segment"))))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNoContent, res.StatusCode, "a ping still works")

	// ClickHouse back: the shipper moves what waited in Postgres, and the
	// dashboard has it all, the lesson opened and the segment watched.
	ingester.Stop() // its batch goes to the outbox
	ch := dbtest.ClickHouse(t)
	shipAll(t, lb.pool, ch)
	up := web.New(web.Deps{Store: lb.store, ClickHouse: ch, Pool: lb.pool, Logger: quiet})
	page := servePage(up, "GET", fmt.Sprintf("/dashboard/reps/%d", lb.repID), sess.Token, nil)
	require.Equal(t, http.StatusOK, page.status, "%s", page.body)
	require.Contains(t, string(page.body), fmt.Sprintf(`data-enrollment="%d" data-done="1"`, lb.enrollmentID), "the text lesson opened while ClickHouse was down")
	require.Regexp(t, `data-testid="watched">1 of \d+<`, string(page.body), "the segment pinged while ClickHouse was down")
	require.Contains(t, string(page.body), fmt.Sprintf(`data-key="open/%d"`, lb.assignments["intro"]))
}

// A long timeline comes in pages of pages.TimelinePage, newest first, each
// linking to its neighbours; a page past the end shows the last one.
func TestDashboardTimelinePages(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	const messages = pages.TimelinePage + 30
	var events []tracking.Event
	for i := range messages {
		events = append(events, tracking.Event{OrgID: b.org.ID, RepID: 104, Key: fmt.Sprintf("msg/9%03d/message_sent", i),
			Kind: tracking.KindMessageSent, OccurredAt: b.now.Add(-time.Duration(messages-i) * time.Minute), EnrollmentID: 1040})
	}
	b.write(t, events...)
	b.write(t, events[messages-1]) // stored twice, not merged yet: one entry
	entries := func(body []byte) []string {
		return regexp.MustCompile(`data-key="([^"]+)"`).FindAllString(string(body), -1)
	}
	first := b.get("/dashboard/reps/104", b.admin)
	require.Equal(t, http.StatusOK, first.status)
	keys := entries(first.body)
	require.Len(t, keys, pages.TimelinePage)
	require.Equal(t, fmt.Sprintf(`data-key="msg/9%03d/message_sent"`, messages-1), keys[0], "the newest first")
	require.NotEqual(t, keys[0], keys[1], "a version stored twice is one entry")
	require.NotContains(t, string(first.body), `data-testid="replaced"`, "nor a correction of itself")
	require.Contains(t, string(first.body), fmt.Sprintf(`href="/dashboard/reps/104?older=%d"`, pages.TimelinePage))
	require.NotContains(t, string(first.body), `data-testid="newer"`)
	total := len(keys)

	second := b.get(fmt.Sprintf("/dashboard/reps/104?older=%d", pages.TimelinePage), b.admin)
	require.Equal(t, http.StatusOK, second.status)
	rest := entries(second.body)
	total += len(rest)
	require.GreaterOrEqual(t, total, messages, "every message is on one of the pages")
	require.NotContains(t, rest, keys[len(keys)-1], "no entry on both pages")
	require.Contains(t, string(second.body), `href="/dashboard/reps/104"`)
	require.NotContains(t, string(second.body), `data-testid="older"`)
	require.Contains(t, string(second.body), fmt.Sprintf("Events %d to %d of %d", pages.TimelinePage+1, total, total))

	past := b.get(fmt.Sprintf("/dashboard/reps/104?older=%d", 5*pages.TimelinePage), b.admin)
	require.Equal(t, rest, entries(past.body), "past the end: the last page")
	for _, bad := range []string{"-100", "7", "x", "1000000"} {
		res := b.get("/dashboard/reps/104?older="+bad, b.admin)
		require.Equal(t, http.StatusBadRequest, res.status, bad)
		require.Contains(t, string(res.body), "older", bad)
	}
}

// A page its client gave up on (the context cancelled mid-request) is not
// an internal error: it is logged at debug with status 499, while the same
// page fails as a 500, logged as an error, when the server's own work fails.
func TestClientGoneIsNotAnError(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/dashboard/reps", nil)
	req.AddCookie(&http.Cookie{Name: "morsel_session", Value: b.admin})
	rec := httptest.NewRecorder()
	b.srv.Handler().ServeHTTP(rec, req)
	require.Equal(t, 499, rec.Code, "%s", rec.Body)
	require.NotContains(t, b.logs.String(), "level=ERROR")

	// Control: the same failure with the client still there is an error.
	b.pool.Close()
	res := b.get("/dashboard/reps", b.admin)
	require.Equal(t, http.StatusInternalServerError, res.status, "%s", res.body)
	require.Contains(t, b.logs.String(), "level=ERROR")
}
