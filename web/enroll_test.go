package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/web"
)

// postMultipart posts fields, and file as the field "file" unless name is
// empty, to path as the session's user.
func postMultipart(t *testing.T, srv *web.Server, path, session string, fields url.Values, name string, file []byte) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			require.NoError(t, mw.WriteField(k, v))
		}
	}
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		require.NoError(t, err)
		_, err = fw.Write(file)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	req := httptest.NewRequest("POST", path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: "morsel_session", Value: session})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// enrollBundle is an organisation with a published course and two teams of
// two reps, East and West, and users of each role.
type enrollBundle struct {
	testBundle
	course                lessons.CourseVersion
	east, west            int64  // team ids
	admin, manager, tsess string // sessions: an admin, East's manager, a trainer
}

func setupEnroll(t *testing.T) enrollBundle {
	t.Helper()
	ctx := context.Background()
	b := enrollBundle{testBundle: setup(t)}
	var err error
	b.course, err = b.store.SaveCourse(ctx, b.org.ID, lessons.StarterCourse("onboarding", "Onboarding"), true)
	require.NoError(t, err)
	_, err = b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{
		{Name: "Ada East", Phone: "+12125550101", Team: "East", TimeZone: "America/New_York"},
		{Name: "Bo East", Phone: "+12125550102", Team: "East", TimeZone: "America/New_York"},
		{Name: "Cy West", Phone: "+12125550103", Team: "West", TimeZone: "America/Los_Angeles"},
		{Name: "Di West", Phone: "+12125550104", Team: "West", TimeZone: "America/Los_Angeles"},
	})
	require.NoError(t, err)
	teams, err := b.store.Teams(ctx, b.org.ID)
	require.NoError(t, err)
	for _, tm := range teams {
		switch tm.Name {
		case "East":
			b.east = tm.ID
		case "West":
			b.west = tm.ID
		}
	}
	b.admin = sessionOf(t, b.testBundle, newUser(t, b.testBundle, b.org.ID, lessons.RoleAdmin, "admin@acme.test", "correct horse 1"))
	b.manager = sessionOf(t, b.testBundle, newUser(t, b.testBundle, b.org.ID, lessons.RoleManager, "east@acme.test", "correct horse 2", "East"))
	b.tsess = sessionOf(t, b.testBundle, newUser(t, b.testBundle, b.org.ID, lessons.RoleTrainer, "trainer@acme.test", "correct horse 3"))
	return b
}

// enrolledReps returns the names of the reps enrolled, by status.
func (b enrollBundle) enrolledReps(t *testing.T) map[string]string {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT r.name, e.status FROM enrollments e JOIN reps r ON r.id = e.rep_id`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, status string
		require.NoError(t, rows.Scan(&name, &status))
		out[name] = status
	}
	return out
}

func day(offset int) string { return time.Now().UTC().AddDate(0, 0, offset).Format(time.DateOnly) }

func TestEnrollPage(t *testing.T) {
	t.Parallel()
	b := setupEnroll(t)

	res := servePage(b.server, "GET", "/enroll", b.admin, nil)
	require.Equal(t, http.StatusOK, res.status)
	body := string(res.body)
	require.Contains(t, body, "Onboarding (version 1)")
	require.Contains(t, body, `value="`+itoa(b.east)+`"`)
	require.Contains(t, body, `value="`+itoa(b.west)+`"`)

	res = servePage(b.server, "GET", "/enroll", b.manager, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, string(res.body), `value="`+itoa(b.east)+`"`)
	require.NotContains(t, string(res.body), `value="`+itoa(b.west)+`"`, "a manager sees their own teams only")

	res = servePage(b.server, "GET", "/enroll", b.tsess, nil)
	require.Equal(t, http.StatusForbidden, res.status, "trainers author, they do not enroll")
	res = postMultipart(t, b.server, "/enroll", b.tsess, url.Values{"course_id": {itoa(b.course.CourseID)}, "team_ids": {itoa(b.east)}}, "", nil)
	require.Equal(t, http.StatusForbidden, res.status)
	require.Empty(t, b.enrolledReps(t))
}

func TestEnrollTeams(t *testing.T) {
	t.Parallel()
	b := setupEnroll(t)
	form := url.Values{"course_id": {itoa(b.course.CourseID)}, "team_ids": {itoa(b.east), itoa(b.west)},
		"start_on": {day(2)}, "due_on": {day(20)}}
	res := postMultipart(t, b.server, "/enroll", b.admin, form, "", nil)
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	require.Contains(t, string(res.body), "4 reps enrolled in Onboarding")
	require.Equal(t, map[string]string{"Ada East": "active", "Bo East": "active", "Cy West": "active", "Di West": "active"}, b.enrolledReps(t))
	var due string
	var starts time.Time
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT to_char(e.due_on, 'YYYY-MM-DD'), e.starts_at FROM enrollments e JOIN reps r ON r.id = e.rep_id WHERE r.name = 'Cy West'`).Scan(&due, &starts))
	require.Equal(t, day(20), due)
	la, err := time.LoadLocation("America/Los_Angeles")
	require.NoError(t, err)
	require.Equal(t, day(2)+" 00:00", starts.In(la).Format("2006-01-02 15:04"), "the start date begins at midnight in the rep's zone")

	res = postMultipart(t, b.server, "/enroll", b.admin, form, "", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, string(res.body), "0 reps enrolled")
	require.Contains(t, string(res.body), "4 reps were enrolled already")
}

func TestEnrollValidation(t *testing.T) {
	t.Parallel()
	b := setupEnroll(t)
	course, east := itoa(b.course.CourseID), itoa(b.east)
	tests := []struct {
		name    string
		session string
		form    url.Values
		path    string // the field the problem names
		message string
	}{
		{"no course", b.admin, url.Values{"team_ids": {east}}, "course_id", "Choose a course."},
		{"no reps", b.admin, url.Values{"course_id": {course}}, "team_ids", "Pick a team, or choose a CSV file of new hires."},
		{"bad date", b.admin, url.Values{"course_id": {course}, "team_ids": {east}, "start_on": {"next week"}}, "start_on", `"next week" is not a date as YYYY-MM-DD`},
		{"start in the past", b.admin, url.Values{"course_id": {course}, "team_ids": {east}, "start_on": {day(-3)}}, "start_on", day(-3) + " is before today"},
		{"due before start", b.admin, url.Values{"course_id": {course}, "team_ids": {east}, "start_on": {day(5)}, "due_on": {day(4)}}, "due_on",
			day(4) + " is before the start date " + day(5)},
		{"start now and later", b.admin, url.Values{"course_id": {course}, "team_ids": {east}, "start_on": {day(3)}, "start_now": {"1"}}, "start_on",
			"must be empty or today to start now"},
		{"another organisation's course", b.admin, url.Values{"course_id": {"999999"}, "team_ids": {east}}, "", "not found"},
		{"a manager, another team", b.manager, url.Values{"course_id": {course}, "team_ids": {itoa(b.west)}}, "team_ids", "is not one of your teams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := postMultipart(t, b.server, "/enroll", tt.session, tt.form, "", nil)
			require.Equal(t, http.StatusUnprocessableEntity, res.status, string(res.body))
			body := string(res.body)
			require.Contains(t, body, template.HTMLEscapeString(tt.message))
			if tt.path != "" {
				require.Contains(t, body, `data-problem="`+tt.path+`"`)
			}
			require.Empty(t, b.enrolledReps(t), "nothing saved")
		})
	}
}

func TestEnrollCSV(t *testing.T) {
	t.Parallel()
	b := setupEnroll(t)
	ctx := context.Background()
	form := url.Values{"course_id": {itoa(b.course.CourseID)}}
	countReps := func() int {
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM reps`).Scan(&n))
		return n
	}

	bad := "name,phone,team,timezone\nEve New,+12125550105,East,America/New_York\n\nFay New,555-0199,East,America/New_York\nGil New,+12125550107,East,Mars/Base\n"
	res := postMultipart(t, b.server, "/enroll", b.admin, form, "hires.csv", []byte(bad))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	body := string(res.body)
	require.Contains(t, body, `data-testid="csv-problems"`)
	require.Contains(t, body, "<td>line 4, column phone</td>")
	require.Equal(t, 1, strings.Count(body, "column phone"), "each problem once, in the file's table")
	require.Contains(t, body, "<td>line 5, column timezone</td>")
	require.NotContains(t, body, "line 2", "a good line has no problem")
	require.Equal(t, 4, countReps(), "nothing imported")
	require.Empty(t, b.enrolledReps(t))

	good := "name,phone,team,timezone\nEve New,+12125550105,East,America/New_York\nAda East,+12125550101,East,America/Chicago\n"
	res = postMultipart(t, b.server, "/enroll", b.admin, withForm(form, "team_ids", itoa(b.west)), "hires.csv", []byte(good))
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	require.Contains(t, string(res.body), "4 reps enrolled in Onboarding")
	require.Contains(t, string(res.body), "From the file: 1 new rep, 1 rep updated.")
	require.Equal(t, map[string]string{"Eve New": "active", "Ada East": "active", "Cy West": "active", "Di West": "active"}, b.enrolledReps(t))

	// A manager's file: every line in one of their teams, else nothing saved.
	other := "name,phone,team,timezone\nHal New,+12125550108,East,America/New_York\nIvy New,+12125550109,West,America/New_York\nJo New,+12125550110,,America/New_York\n"
	res = postMultipart(t, b.server, "/enroll", b.manager, form, "mine.csv", []byte(other))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	body = string(res.body)
	require.Contains(t, body, "<td>line 3, column team</td>")
	require.Contains(t, body, template.HTMLEscapeString(`"West" is not one of your teams (East)`))
	require.Contains(t, body, "<td>line 4, column team</td>")
	require.Equal(t, 5, countReps())

	// A course archived meanwhile: the file's reps are not imported either.
	require.NoError(t, b.store.ArchiveCourse(ctx, b.org.ID, b.course.CourseID, true))
	res = postMultipart(t, b.server, "/enroll", b.admin, form, "late.csv", []byte("name,phone,timezone\nKit New,+12125550111,America/New_York\n"))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, string(res.body), "The course is archived")
	require.Equal(t, 5, countReps(), "imported and enrolled in one transaction, or neither")
}

func TestPauseResumeCancelButtons(t *testing.T) {
	t.Parallel()
	b := setupEnroll(t)
	ctx := context.Background()
	_, err := b.store.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: b.course.CourseID, TeamIDs: []int64{b.east, b.west}})
	require.NoError(t, err)
	ids := map[string]int64{}
	rows, err := b.pool.Query(ctx, `SELECT r.name, e.id FROM enrollments e JOIN reps r ON r.id = e.rep_id`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		var id int64
		require.NoError(t, rows.Scan(&name, &id))
		ids[name] = id
	}
	rows.Close()
	at := func(name, action string) string { return fmt.Sprintf("/enrollments/%d/%s", ids[name], action) }

	tests := []struct {
		session, path string
		status        int
		after         string // the enrollment's status after
	}{
		{b.admin, at("Cy West", "pause"), http.StatusSeeOther, "paused"},
		{b.admin, at("Cy West", "pause"), http.StatusConflict, "paused"},
		{b.admin, at("Cy West", "resume"), http.StatusSeeOther, "active"},
		{b.manager, at("Ada East", "pause"), http.StatusSeeOther, "paused"},
		{b.manager, at("Di West", "pause"), http.StatusForbidden, "active"},
		{b.tsess, at("Bo East", "cancel"), http.StatusForbidden, "active"},
		{b.manager, at("Bo East", "cancel"), http.StatusSeeOther, "cancelled"},
		{b.manager, at("Bo East", "resume"), http.StatusConflict, "cancelled"},
	}
	names := map[int64]string{}
	for n, id := range ids {
		names[id] = n
	}
	for _, tt := range tests {
		res := postForm(b.server, tt.path, tt.session, url.Values{})
		require.Equal(t, tt.status, res.status, "%s: %s", tt.path, res.body)
		var id int64
		fmt.Sscanf(tt.path, "/enrollments/%d/", &id)
		require.Equal(t, tt.after, b.enrolledReps(t)[names[id]], tt.path)
		if tt.status == http.StatusSeeOther {
			require.True(t, strings.HasPrefix(res.header.Get("Location"), "/dashboard/reps/"), res.header.Get("Location"))
		}
	}
	otherAdmin := sessionOf(t, b.testBundle, newUser(t, b.testBundle, b.other.ID, lessons.RoleAdmin, "admin@globex.test", "correct horse 4"))
	res := postForm(b.server, at("Di West", "pause"), otherAdmin, url.Values{})
	require.Equal(t, http.StatusNotFound, res.status, "another organisation's enrollment")
	require.Equal(t, "active", b.enrolledReps(t)["Di West"])

	// The rep page offers what each enrollment can do next.
	ch := dbtest.ClickHouse(t)
	shipAll(t, b.pool, ch)
	dash := web.New(web.Deps{Store: b.store, ClickHouse: ch, Pool: b.pool, Logger: quiet})
	repOf := func(name string) int64 {
		var id int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM reps WHERE name = $1`, name).Scan(&id))
		return id
	}
	for _, tt := range []struct {
		name, session, status string
		buttons               []string
	}{
		{"Ada East", b.manager, "paused", []string{"resume", "cancel"}},
		{"Cy West", b.admin, "active", []string{"pause", "cancel"}},
		{"Bo East", b.admin, "cancelled", nil},
	} {
		page := servePage(dash, "GET", fmt.Sprintf("/dashboard/reps/%d?notice=paused", repOf(tt.name)), tt.session, nil)
		require.Equal(t, http.StatusOK, page.status, "%s", page.body)
		body := string(page.body)
		require.Contains(t, body, fmt.Sprintf(`data-enrollment="%d" data-status="%s"`, ids[tt.name], tt.status), tt.name)
		for _, action := range []string{"pause", "resume", "cancel"} {
			form := fmt.Sprintf(`action="/enrollments/%d/%s"`, ids[tt.name], action)
			if slices.Contains(tt.buttons, action) {
				require.Contains(t, body, form, tt.name)
			} else {
				require.NotContains(t, body, form, tt.name)
			}
		}
		require.Contains(t, body, "Paused: the rep gets nothing of the course until it is resumed.")
	}
}

// Reps picked by a filter of the dashboard's rep table, in the user's scope.
func TestEnrollByDashboardFilter(t *testing.T) {
	t.Parallel()
	b := setupEnroll(t)
	ctx := context.Background()
	_, err := b.store.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: b.course.CourseID, TeamIDs: []int64{b.east, b.west}})
	require.NoError(t, err)
	second, err := b.store.SaveCourse(ctx, b.org.ID, lessons.StarterCourse("follow-up", "Follow-up"), true)
	require.NoError(t, err)
	ch := dbtest.ClickHouse(t)
	shipAll(t, b.pool, ch)
	srv := web.New(web.Deps{Store: b.store, ClickHouse: ch, Pool: b.pool, Logger: quiet})

	// The rep table links to the form with its filters.
	table := servePage(srv, "GET", "/dashboard/reps?team="+itoa(b.west)+"&sort=name", b.admin, nil)
	require.Equal(t, http.StatusOK, table.status, "%s", table.body)
	from := "team=" + itoa(b.west)
	require.Contains(t, string(table.body), template.HTMLEscapeString("/enroll?"+url.Values{"from": {from}}.Encode()), "the filters, not the sort")

	page := servePage(srv, "GET", "/enroll?"+url.Values{"from": {from}}.Encode(), b.admin, nil)
	require.Equal(t, http.StatusOK, page.status, "%s", page.body)
	require.Contains(t, string(page.body), "<strong>2 reps</strong> shown by")
	res := postMultipart(t, srv, "/enroll", b.admin, url.Values{"course_id": {itoa(second.CourseID)}, "from": {from}}, "", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.Contains(t, string(res.body), "2 reps enrolled in Follow-up")
	var names []string
	rows, err := b.pool.Query(ctx, `SELECT r.name FROM enrollments e JOIN reps r ON r.id = e.rep_id
		JOIN course_versions v ON v.id = e.course_version_id WHERE v.course_id = $1 ORDER BY r.name`, second.CourseID)
	require.NoError(t, err)
	names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"Cy West", "Di West"}, names)

	// A manager's filter reaches their teams only.
	res = postMultipart(t, srv, "/enroll", b.manager, url.Values{"course_id": {itoa(second.CourseID)}, "from": {from}}, "", nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, string(res.body), "open the form again from the rep table")
	page = servePage(srv, "GET", "/enroll?"+url.Values{"from": {"status=overdue"}}.Encode(), b.manager, nil)
	require.Contains(t, string(page.body), "<strong>0 reps</strong> shown by", "nobody of East is overdue")
}

// shipAll ships the outbox to ClickHouse until it is empty, as the shipper does.
func shipAll(t *testing.T, pool *pgxpool.Pool, ch driver.Conn) {
	t.Helper()
	for {
		n, err := tracking.Ship(context.Background(), pool, ch, 1000, nil)
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}
