package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/web"
)

// recordingInbox is an Inbox that keeps what it is given.
type recordingInbox struct {
	mu  sync.Mutex
	got []lessons.InboundSMS
	err error // returned by Receive when set
}

func (i *recordingInbox) Receive(_ context.Context, in lessons.InboundSMS) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.got = append(i.got, in)
	return i.err
}

func (i *recordingInbox) received() []lessons.InboundSMS {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]lessons.InboundSMS(nil), i.got...)
}

// simRep stores a rep and returns its id.
func simRep(t *testing.T, b testBundle, orgID int64, name, phone, tz string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `
		INSERT INTO reps (org_id, name, phone, time_zone) VALUES ($1, $2, $3, $4) RETURNING id`,
		orgID, name, phone, tz).Scan(&id))
	return id
}

// simMessage is an outbound message row as the scheduler leaves it.
type simMessage struct {
	purpose      lessons.MessagePurpose
	body         string
	status       lessons.MessageStatus
	at           time.Time // scheduled, and sent unless still scheduled, failed or cancelled
	sid          string
	errorCode    int
	errorMessage string
}

// simOutbound stores an outbound message and returns its id.
func simOutbound(t *testing.T, b testBundle, orgID, repID int64, m simMessage) int64 {
	t.Helper()
	var sentAt, deliveredAt *time.Time
	switch m.status {
	case lessons.MessageQueued, lessons.MessageSent, lessons.MessageDelivered, lessons.MessageUndelivered:
		sentAt = &m.at
	}
	if m.status == lessons.MessageDelivered {
		later := m.at.Add(2 * time.Second)
		deliveredAt = &later
	}
	var id int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `
		INSERT INTO messages (org_id, rep_id, direction, purpose, body, encoding, segments, status, provider_sid,
			error_code, error_message, scheduled_at, created_at, sent_at, delivered_at, updated_at)
		VALUES ($1, $2, 'outbound', $3, $4, 'GSM-7', 1, $5, nullif($6, ''), nullif($7, 0), $8, $9, $9, $10, $11, $9)
		RETURNING id`,
		orgID, repID, m.purpose, m.body, m.status, m.sid, m.errorCode, m.errorMessage, m.at, sentAt, deliveredAt).Scan(&id))
	return id
}

// simServer is a server with the simulator on and inbox as its Inbox.
func simServer(b testBundle, inbox web.Inbox) *web.Server {
	return web.New(web.Deps{Store: b.store, Logger: quiet, Inbox: inbox, Simulator: true})
}

func texts(sel *goquery.Selection) []string {
	var out []string
	sel.Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

func TestSimulatorOff(t *testing.T) {
	t.Parallel()
	inbox := &recordingInbox{}
	srv := web.New(web.Deps{Store: &lessons.Store{}, Logger: quiet, Inbox: inbox})
	for _, tt := range []struct{ method, path string }{
		{"GET", "/simulator"},
		{"GET", "/simulator/reps/1"},
		{"POST", "/simulator/reps/1/reply"},
	} {
		var res response
		if tt.method == "POST" {
			res = postForm(srv, tt.path, "", url.Values{"body": {"A"}})
		} else {
			res = serve(srv, tt.method, tt.path, "")
		}
		require.Equal(t, http.StatusNotFound, res.status, "%s %s", tt.method, tt.path)
		require.Equal(t, 1, document(t, res).Find(`[data-testid="not-found"]`).Length())
	}
	require.Empty(t, inbox.received())
}

func TestSimulator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	// Globex texts from a number of its own; Acme uses the deployment's.
	_, err := b.pool.Exec(ctx, `UPDATE organisations SET sms_from = '+15005550009' WHERE id = $1`, b.other.ID)
	require.NoError(t, err)
	ava := simRep(t, b, b.org.ID, "Ava Adams", "+12012345678", "America/New_York")
	ben := simRep(t, b, b.org.ID, "Ben Brown", "+13122345678", "America/Chicago")
	otto := simRep(t, b, b.other.ID, "Otto Other", "+12012345678", "Europe/Berlin") // Ava's number

	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	at := func(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }
	simOutbound(t, b, b.org.ID, ava, simMessage{purpose: lessons.PurposeLesson, status: lessons.MessageDelivered, at: at(0), sid: "SIM" + strings.Repeat("a", 32),
		body: "Discount policy 1/3: Watch (1 min): https://morsel.example/l/tok123."})
	simOutbound(t, b, b.org.ID, ava, simMessage{purpose: lessons.PurposeQuestion, status: lessons.MessageSent, at: at(1), sid: "SIM" + strings.Repeat("b", 32),
		body: "Which discount needs approval? A) 5% B) 20%"})
	simOutbound(t, b, b.org.ID, ava, simMessage{purpose: lessons.PurposeReminder, status: lessons.MessageUndelivered, at: at(2), sid: "SIM" + strings.Repeat("c", 32),
		body: "Due Friday", errorCode: 30006, errorMessage: "Landline or unreachable carrier"})
	simOutbound(t, b, b.org.ID, ava, simMessage{purpose: lessons.PurposeLesson, status: lessons.MessageScheduled, at: time.Now().Add(24 * time.Hour),
		body: "Discount policy 2/3"})
	simOutbound(t, b, b.org.ID, ben, simMessage{purpose: lessons.PurposeLesson, status: lessons.MessageQueued, at: at(-30), sid: "SIM" + strings.Repeat("d", 32),
		body: "Ben's first lesson"})
	simOutbound(t, b, b.other.ID, otto, simMessage{purpose: lessons.PurposeLesson, status: lessons.MessageDelivered, at: at(5), sid: "SIM" + strings.Repeat("e", 32),
		body: "Globex onboarding"})
	// Ava's answer arrives the way the webhook stores it.
	sched, err := scheduler.New(b.pool, b.store, scheduler.Simulator{}, scheduler.Config{}, quiet, false)
	require.NoError(t, err)
	require.NoError(t, sched.Receive(ctx, lessons.InboundSMS{SID: "SM" + strings.Repeat("f", 32), From: "+12012345678", To: "+15005550006", Body: "B"}))

	inbox := &recordingInbox{}
	srv := simServer(b, inbox)
	// Each organisation's admins and trainers see its reps' phones, and only those.
	acme := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleAdmin, "ada@acme.example", "ada's password"))
	globex := sessionOf(t, b, newUser(t, b, b.other.ID, lessons.RoleTrainer, "gil@globex.example", "gil's password"))

	t.Run("list", func(t *testing.T) {
		t.Parallel()
		res := servePage(srv, "GET", "/simulator", acme, nil)
		require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
		doc := document(t, res)
		orgs := doc.Find(`[data-testid="sim-org"]`)
		require.Equal(t, 1, orgs.Length())
		acmeOrg := doc.Find(`[data-testid="sim-org"][data-org="acme"]`)
		var links []string
		acmeOrg.Find(`[data-testid="conversation-link"]`).Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			links = append(links, href)
		})
		// Ava's conversation ends with tomorrow's lesson, so it comes first.
		require.Equal(t, []string{fmt.Sprintf("/simulator/reps/%d", ava), fmt.Sprintf("/simulator/reps/%d", ben)}, links)
		require.Contains(t, acmeOrg.Find(`[data-testid="conversation-last"]`).First().Text(), "Discount policy 2/3")
		require.NotContains(t, doc.Text(), "Otto Other")

		res = servePage(srv, "GET", "/simulator", globex, nil)
		require.Equal(t, http.StatusOK, res.status)
		doc = document(t, res)
		globexOrg := doc.Find(`[data-testid="sim-org"][data-org="globex"]`)
		require.Equal(t, 1, globexOrg.Find(`[data-testid="conversation"]`).Length())
		require.Contains(t, globexOrg.Text(), "Otto Other")
		require.NotContains(t, doc.Text(), "Ava")
	})

	t.Run("phone", func(t *testing.T) {
		t.Parallel()
		res := servePage(srv, "GET", fmt.Sprintf("/simulator/reps/%d", ava), acme, nil)
		require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
		require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		doc := document(t, res)
		require.Equal(t, "Ava Adams", doc.Find(`[data-testid="phone-name"]`).Text())
		require.Equal(t, "+12012345678", doc.Find(`[data-testid="phone-number"]`).Text())

		var order []string
		doc.Find(`[data-testid="thread"] > li`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-testid")
			status, _ := s.Attr("data-status")
			order = append(order, id+":"+status)
		})
		require.Equal(t, []string{"bubble-out:delivered", "bubble-out:sent", "bubble-out:undelivered", "bubble-in:", "bubble-out:scheduled"}, order)

		out := doc.Find(`[data-testid="bubble-out"]`)
		require.Equal(t, []string{"delivered", "sent", "undelivered", "scheduled"}, texts(out.Find(`[data-testid="bubble-status"]`)))
		for _, tm := range texts(out.Find(`[data-testid="bubble-time"]`)) {
			require.Regexp(t, `^(due )?\w{3} \d{1,2} \w{3} \d\d:\d\d \w+$`, tm)
		}
		href, _ := out.First().Find(`[data-testid="bubble-link"]`).Attr("href")
		require.Equal(t, "https://morsel.example/l/tok123", href, "the sentence's full stop is not part of the link")
		require.Contains(t, out.First().Find(`[data-testid="bubble-body"]`).Text(), "Discount policy 1/3: Watch (1 min): https://morsel.example/l/tok123.")
		require.Equal(t, []string{"Error 30006: Landline or unreachable carrier"}, texts(doc.Find(`[data-testid="bubble-error"]`)))
		dt, _ := out.First().Find("time").Attr("datetime")
		require.Equal(t, at(0).Add(2*time.Second).UTC().Format(time.RFC3339), dt, "a delivered message shows when it was delivered")

		in := doc.Find(`[data-testid="bubble-in"]`)
		require.Equal(t, 1, in.Length())
		require.Equal(t, "B", strings.TrimSpace(in.Find(`[data-testid="bubble-body"]`).Text()))
		require.Zero(t, in.Find(`[data-testid="bubble-status"]`).Length())

		form := doc.Find(`form[data-testid="reply-form"]`)
		action, _ := form.Attr("action")
		require.Equal(t, fmt.Sprintf("/simulator/reps/%d/reply", ava), action)
		require.Equal(t, "post", form.AttrOr("method", ""))
		require.Equal(t, 1, form.Find(`textarea[name="body"]`).Length())
		require.Zero(t, doc.Find(`[data-testid="reply-error"]`).Length())
		src, _ := doc.Find(`[data-testid="thread"]`).Attr("data-src")
		require.Equal(t, fmt.Sprintf("/simulator/reps/%d", ava), src, "the page refreshes its thread from here")
		require.Contains(t, doc.Find("script").Text(), "3000")
	})

	t.Run("the same number in another organisation", func(t *testing.T) {
		t.Parallel()
		res := servePage(srv, "GET", fmt.Sprintf("/simulator/reps/%d", otto), globex, nil)
		require.Equal(t, http.StatusOK, res.status)
		doc := document(t, res)
		require.Equal(t, []string{"Globex onboarding"}, texts(doc.Find(`[data-testid="bubble-body"]`)))
	})

	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		otherOrgs := fmt.Sprintf("/simulator/reps/%d", otto)
		for _, path := range []string{"/simulator/reps/999999", "/simulator/reps/0", "/simulator/reps/abc", "/simulator/reps/-1", otherOrgs} {
			res := servePage(srv, "GET", path, acme, nil)
			require.Equal(t, http.StatusNotFound, res.status, path)
			require.Equal(t, 1, document(t, res).Find(`[data-testid="not-found"]`).Length(), path)
			res = postForm(srv, path+"/reply", acme, url.Values{"body": {"A"}})
			require.Equal(t, http.StatusNotFound, res.status, path)
		}
	})

	t.Run("reply", func(t *testing.T) {
		t.Parallel()
		inbox := &recordingInbox{}
		srv := simServer(b, inbox)
		long := strings.Repeat("é", 1600) // 1,600 characters, 3,200 bytes
		for _, tt := range []struct {
			session  string
			rep      int64
			body, to string
		}{
			{acme, ava, "A", "+15005550006"},
			{acme, ava, long, "+15005550006"},
			{globex, otto, "STOP", "+15005550009"},
		} {
			res := postForm(srv, fmt.Sprintf("/simulator/reps/%d/reply", tt.rep), tt.session, url.Values{"body": {tt.body}})
			require.Equal(t, http.StatusSeeOther, res.status, "body: %s", res.body)
			require.Equal(t, fmt.Sprintf("/simulator/reps/%d", tt.rep), res.header.Get("Location"))
		}
		got := inbox.received()
		require.Len(t, got, 3)
		sid := regexp.MustCompile(`^SIM[0-9a-f]{32}$`)
		for i, want := range []lessons.InboundSMS{
			{From: "+12012345678", To: "+15005550006", Body: "A", OrgID: b.org.ID, RepID: ava},
			{From: "+12012345678", To: "+15005550006", Body: long, OrgID: b.org.ID, RepID: ava},
			{From: "+12012345678", To: "+15005550009", Body: "STOP", OrgID: b.other.ID, RepID: otto}, // the page names the rep: no lookup by the shared phone
		} {
			require.Regexp(t, sid, got[i].SID)
			want.SID = got[i].SID
			require.Equal(t, want, got[i])
		}
		require.NotEqual(t, got[0].SID, got[1].SID)
	})

	t.Run("refused replies", func(t *testing.T) {
		t.Parallel()
		inbox := &recordingInbox{}
		srv := simServer(b, inbox)
		for _, tt := range []struct {
			name string
			form url.Values
		}{
			{"empty", url.Values{"body": {""}}},
			{"missing", url.Values{}},
			{"blank", url.Values{"body": {"  \n "}}},
			{"too long", url.Values{"body": {strings.Repeat("x", 1601)}}},
			{"not UTF-8", url.Values{"body": {"caf\xe9"}}},
		} {
			res := postForm(srv, fmt.Sprintf("/simulator/reps/%d/reply", ava), acme, tt.form)
			require.Equal(t, http.StatusBadRequest, res.status, tt.name)
			doc := document(t, res)
			msg := doc.Find(`[data-testid="reply-error"]`).Text()
			require.Contains(t, msg, "body", tt.name)
			require.Contains(t, msg, "1600", tt.name)
			require.Equal(t, 5, doc.Find(`[data-testid="thread"] > li`).Length(), "the conversation is still shown")
			if b := tt.form.Get("body"); b != "" && len(b) < 100 && tt.name != "not UTF-8" {
				require.Equal(t, b, doc.Find(`[data-testid="reply-body"]`).Text(), "the draft is kept")
			}
		}
		require.Empty(t, inbox.received())
	})

	t.Run("the inbox fails", func(t *testing.T) {
		t.Parallel()
		srv := simServer(b, &recordingInbox{err: errors.New("connection refused")})
		res := postForm(srv, fmt.Sprintf("/simulator/reps/%d/reply", ava), acme, url.Values{"body": {"A"}})
		require.Equal(t, http.StatusInternalServerError, res.status)
		doc := document(t, res)
		require.Equal(t, "Internal error.", doc.Find(`[data-testid="problem"]`).Text())
		require.NotContains(t, string(res.body), "connection refused")
	})
}

// TestSimulatorReplyReachesTheConversation takes a reply through the real
// Inbox: stored once, with its processing queued, and on the phone.
func TestSimulatorReplyReachesTheConversation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	ava := simRep(t, b, b.org.ID, "Ava Adams", "+12012345678", "UTC")
	simOutbound(t, b, b.org.ID, ava, simMessage{purpose: lessons.PurposeQuestion, status: lessons.MessageDelivered, at: time.Now().Add(-time.Minute),
		sid: "SIM" + strings.Repeat("1", 32), body: "Who approves? A) You B) Your manager"})
	sched, err := scheduler.New(b.pool, b.store, scheduler.Simulator{}, scheduler.Config{}, quiet, false)
	require.NoError(t, err)
	srv := simServer(b, sched)
	session := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tia@acme.example", "tia's password"))

	res := postForm(srv, fmt.Sprintf("/simulator/reps/%d/reply", ava), session, url.Values{"body": {"b"}})
	require.Equal(t, http.StatusSeeOther, res.status, "body: %s", res.body)
	res = servePage(srv, "GET", res.header.Get("Location"), session, nil)
	require.Equal(t, http.StatusOK, res.status)
	doc := document(t, res)
	require.Equal(t, []string{"bubble-out", "bubble-in"}, doc.Find(`[data-testid="thread"] > li`).Map(func(_ int, s *goquery.Selection) string {
		return s.AttrOr("data-testid", "")
	}))
	require.Equal(t, "b", strings.TrimSpace(doc.Find(`[data-testid="bubble-in"] [data-testid="bubble-body"]`).Text()))

	var sid string
	var jobs int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT provider_sid FROM messages WHERE direction = 'inbound'`).Scan(&sid))
	require.Regexp(t, `^SIM[0-9a-f]{32}$`, sid)
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'process_reply'`).Scan(&jobs))
	require.Equal(t, 1, jobs)
}

func TestMedia(t *testing.T) {
	t.Parallel()
	srv := web.New(web.Deps{Store: &lessons.Store{}, Logger: quiet})
	h := srv.Handler()
	get := func(path string, header http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	full := get("/media/demo.mp4", nil)
	require.Equal(t, http.StatusOK, full.Code)
	require.Equal(t, "video/mp4", full.Header().Get("Content-Type"))
	require.Equal(t, "public, max-age=86400", full.Header().Get("Cache-Control"))
	require.Equal(t, "bytes", full.Header().Get("Accept-Ranges"))
	size := full.Body.Len()
	require.Greater(t, size, 100_000)
	require.Equal(t, []byte("ftyp"), full.Body.Bytes()[4:8], "an MP4 file")
	etag := full.Header().Get("ETag")
	require.Regexp(t, `^"[0-9a-f]{24}"$`, etag)

	part := get("/media/demo.mp4", http.Header{"Range": {"bytes=1000-1999"}})
	require.Equal(t, http.StatusPartialContent, part.Code)
	require.Equal(t, fmt.Sprintf("bytes 1000-1999/%d", size), part.Header().Get("Content-Range"))
	require.Equal(t, "video/mp4", part.Header().Get("Content-Type"))
	require.True(t, bytes.Equal(full.Body.Bytes()[1000:2000], part.Body.Bytes()))

	tail := get("/media/demo.mp4", http.Header{"Range": {"bytes=-100"}})
	require.Equal(t, http.StatusPartialContent, tail.Code)
	require.Equal(t, 100, tail.Body.Len())

	beyond := get("/media/demo.mp4", http.Header{"Range": {fmt.Sprintf("bytes=%d-", size+10)}})
	require.Equal(t, http.StatusRequestedRangeNotSatisfiable, beyond.Code)

	cached := get("/media/demo.mp4", http.Header{"If-None-Match": {etag}})
	require.Equal(t, http.StatusNotModified, cached.Code)

	stale := get("/media/demo.mp4", http.Header{"Range": {"bytes=0-9"}, "If-Range": {`"other"`}})
	require.Equal(t, http.StatusOK, stale.Code, "a changed file is sent whole")

	head := httptest.NewRecorder()
	h.ServeHTTP(head, httptest.NewRequest("HEAD", "/media/demo.mp4", nil))
	require.Equal(t, http.StatusOK, head.Code)
	require.Equal(t, fmt.Sprint(size), head.Header().Get("Content-Length"))

	for _, path := range []string{"/media/nothing.mp4", "/media/", "/media/..%2fstatic.go", "/media/%2e%2e"} {
		res := get(path, nil)
		require.Equal(t, http.StatusNotFound, res.Code, path)
	}
}
