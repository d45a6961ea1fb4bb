package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
)

// noteReps imports a rep into each team in Postgres and ships their facts to
// ClickHouse, each enrolled in the course: reps that notes can be written
// on, in the rep table. It returns their ids.
func (b *dashBundle) noteReps(t *testing.T) (north, south int64) {
	t.Helper()
	ctx := context.Background()
	_, err := b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{
		{Name: "Nia Note", Phone: "+12025550901", Team: "North", TimeZone: "UTC"},
		{Name: "Sid South", Phone: "+12025550902", Team: "South", TimeZone: "UTC"},
	})
	require.NoError(t, err)
	b.ship(t)
	for _, p := range []struct {
		phone string
		id    *int64
	}{{"+12025550901", &north}, {"+12025550902", &south}} {
		r, err := b.store.RepByPhone(ctx, b.org.ID, p.phone)
		require.NoError(t, err)
		*p.id = r.ID
		e := tracking.EnrollmentFacts{OrgID: b.org.ID, RepID: r.ID, EnrollmentID: r.ID * 10, CourseID: dashCourse, CourseVersionID: 70,
			CourseTitle: "Compliance", Status: "active", EnrolledAt: b.now, DueOn: b.now.AddDate(0, 0, 9).Format("2006-01-02"), Lessons: 2}
		b.write(t, e.Event(b.now))
	}
	return north, south
}

// ship ships the outbox to ClickHouse, as the shipper job does.
func (b *dashBundle) ship(t *testing.T) {
	t.Helper()
	for {
		n, err := tracking.Ship(context.Background(), b.pool, b.ch, 1000, nil)
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}

func (b *dashBundle) doc(t *testing.T, res response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(res.body)))
	require.NoError(t, err)
	return doc
}

func TestNotesOnTheRepPage(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	nia, sid := b.noteReps(t)
	niaPage := "/dashboard/reps/" + strconv.FormatInt(nia, 10)

	// The manager notes their rep, mentioning the trainer by their email's name.
	res := postForm(b.srv, niaPage+"/notes", b.manager, url.Values{"body": {"called her, #needs-coaching, @trainer please check the pricing quiz"}})
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	require.Equal(t, niaPage+"?notice=note-saved#notes", res.header.Get("Location"))
	loc, _, _ := strings.Cut(res.header.Get("Location"), "#") // a browser keeps the fragment
	pg := b.get(loc, b.manager)
	require.Equal(t, http.StatusOK, pg.status, "%s", pg.body)
	doc := b.doc(t, pg)
	require.Equal(t, "Note saved.", doc.Find(`[data-testid=notice]`).Text())
	require.Equal(t, "called her, #needs-coaching, @trainer please check the pricing quiz", doc.Find(`[data-testid=note-text]`).Text())
	href, _ := doc.Find(`[data-testid=note-tag]`).Attr("href")
	require.Equal(t, "/dashboard/reps?tag=needs-coaching", href)

	// The trainer sees it in their mentions after sign-in, once as new.
	doc = b.doc(t, b.get("/dashboard", b.trainer))
	require.Equal(t, "1", doc.Find(`[data-testid=mentions-count]`).Text())
	doc = b.doc(t, b.get("/mentions", b.trainer))
	require.Equal(t, 1, doc.Find(`[data-testid=mention]`).Length())
	require.Equal(t, 1, doc.Find(`[data-testid=mention-new]`).Length())
	require.Equal(t, "Nia Note", doc.Find(`[data-testid=mention-rep]`).Text())
	doc = b.doc(t, b.get("/dashboard", b.trainer))
	require.Zero(t, doc.Find(`[data-testid=mentions-count]`).Length(), "seen")
	require.Zero(t, b.doc(t, b.get("/mentions", b.manager)).Find(`[data-testid=mention]`).Length(), "the author is not mentioned")

	// Suggestions while typing, and the tag as a filter of the rep table.
	res = b.get("/dashboard/tags?q=%23NEE", b.manager)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var sugg struct {
		Tags []struct {
			Tag   string `json:"tag"`
			Notes int    `json:"notes"`
		} `json:"tags"`
	}
	require.NoError(t, json.Unmarshal(res.body, &sugg))
	require.Len(t, sugg.Tags, 1)
	require.Equal(t, "needs-coaching", sugg.Tags[0].Tag)
	require.Equal(t, 1, sugg.Tags[0].Notes)
	b.ship(t)
	tagged := func(session string) []string {
		t.Helper()
		res := b.get("/dashboard/reps?tag=needs-coaching", session)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var reps []string
		b.doc(t, res).Find(`[data-testid=rep-row]`).Each(func(_ int, s *goquery.Selection) {
			reps = append(reps, s.AttrOr("data-rep", ""))
		})
		return reps
	}
	require.Equal(t, []string{strconv.FormatInt(nia, 10)}, tagged(b.manager))
	_, checked := b.doc(t, b.get("/dashboard/reps?tag=needs-coaching", b.manager)).Find(`[data-testid=filter-tag-needs-coaching]`).Attr("checked")
	require.True(t, checked, "the filter shows the tag chosen")
	doc = b.doc(t, b.get("/reports/breakdown?by=course&tag=needs-coaching", b.manager))
	require.Contains(t, doc.Find(`[data-testid=tagged]`).Text(), "#needs-coaching")
	require.Equal(t, "1", doc.Find(`[data-label=Compliance] [data-testid=enrolled]`).Text(), "the report counts Nia alone")
	require.Equal(t, "needs-coaching", doc.Find(`[data-testid=tag-scope-select] option[selected]`).AttrOr("value", ""))
	doc = b.doc(t, b.get("/reports/breakdown?by=course", b.manager))
	require.Equal(t, "4", doc.Find(`[data-label=Compliance] [data-testid=enrolled]`).Text(), "North's four reps")
	require.Equal(t, http.StatusBadRequest, b.get("/reports/questions?tag=%3D1", b.manager).status, "a tag that is no tag")

	// The other team's rep is out of the manager's reach; bad notes keep
	// the text and say what is wrong.
	res = postForm(b.srv, "/dashboard/reps/"+strconv.FormatInt(sid, 10)+"/notes", b.manager, url.Values{"body": {"#sneaky"}})
	require.Equal(t, http.StatusNotFound, res.status)
	res = postForm(b.srv, niaPage+"/notes", b.manager, url.Values{"body": {strings.Repeat("x", lessons.NoteMaxRunes+1)}})
	require.Equal(t, http.StatusBadRequest, res.status)
	doc = b.doc(t, res)
	require.Contains(t, doc.Find(`[data-testid=note-problem]`).Text(), "has 2001 characters; a note has at most 2000")
	require.Equal(t, strings.Repeat("x", lessons.NoteMaxRunes+1), doc.Find(`[data-testid=note-body]`).Text())

	// An edit of a stale version is refused with the text kept; the admin
	// deletes the note and the tag leaves the table on the next load.
	noteID, _ := b.doc(t, b.get(niaPage, b.manager)).Find(`[data-testid=note]`).Attr("data-note")
	res = postForm(b.srv, "/dashboard/notes/"+noteID+"/edit", b.manager, url.Values{"body": {"#needs-coaching done"}, "version": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	res = postForm(b.srv, "/dashboard/notes/"+noteID+"/edit", b.manager, url.Values{"body": {"my stale edit"}, "version": {"1"}})
	require.Equal(t, http.StatusConflict, res.status)
	doc = b.doc(t, res)
	require.Contains(t, doc.Find(`[data-testid=note-problem]`).Text(), "changed meanwhile")
	require.Equal(t, "my stale edit", doc.Find(`[data-testid=note-edit-body]`).Text())
	res = postForm(b.srv, "/dashboard/notes/"+noteID+"/delete", b.trainer, url.Values{"version": {"2"}})
	require.Equal(t, http.StatusForbidden, res.status, "the trainer is not its author")
	res = postForm(b.srv, "/dashboard/notes/"+noteID+"/delete", b.admin, url.Values{"version": {"2"}})
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	b.ship(t)
	require.Empty(t, tagged(b.manager))
	doc = b.doc(t, b.get(niaPage, b.admin))
	require.Equal(t, 1, doc.Find(`[data-testid=note-deleted]`).Length())
	require.Contains(t, doc.Find(`[data-testid=note-history]`).Text(), "3 versions")

	// Another organisation's admin reaches none of it.
	require.Equal(t, http.StatusNotFound, postForm(b.srv, "/dashboard/notes/"+noteID+"/edit", b.otherAdmin,
		url.Values{"body": {"x"}, "version": {"3"}}).status)
	res = b.get("/dashboard/tags?q=", b.otherAdmin)
	require.JSONEq(t, `{"tags": []}`, string(res.body))
}
