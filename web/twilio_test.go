package web

// Tests of Twilio's webhooks, inside the package: the fuzz tests reach the
// form parsers themselves. The requests are raw form bodies as Twilio posts
// them, kept in testdata/twilio, signed as Twilio signs them.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/migrations/dbtest"
	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

const (
	whToken     = "f3a5c1e2d4b6a8c0e2f4a6b8c0d2e4f6" // the auth token the tests sign with
	whPublicURL = "https://morsel.example"
	whStatusSID = "SM0123456789abcdef0123456789abcdef" // the sid in the status fixtures
	whInboundID = "SMfedcba9876543210fedcba9876543210" // the sid in the inbound fixtures
	whRepPhone  = "+12012345678"                       // the sender in the fixtures
)

var whQuiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// whFixture returns a raw webhook body from testdata/twilio.
func whFixture(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "twilio", name+".txt"))
	require.NoError(t, err)
	return strings.TrimSpace(string(data))
}

// whBundle is a server on a fresh database with a rep whose phone the
// fixtures use, and the real scheduler (inserting jobs only) as its Inbox.
type whBundle struct {
	pool    *pgxpool.Pool
	store   *lessons.Store
	sched   *scheduler.Scheduler
	handler http.Handler
	orgID   int64
	repID   int64
}

func newWHBundle(t testing.TB, publicURL, token string) whBundle {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.Postgres(t)
	queue, err := scheduler.NewQueue(pool, scheduler.QueueConfig{}, whQuiet)
	require.NoError(t, err)
	store := lessons.NewStore(pool, lessons.StoreConfig{Queue: queue})
	org, err := store.CreateOrg(ctx, lessons.Org{Slug: "acme", Name: "Acme Sales"})
	require.NoError(t, err)
	var repID int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO reps (org_id, name, phone, time_zone)
		VALUES ($1, 'Ava Adams', $2, 'America/New_York') RETURNING id`, org.ID, whRepPhone).Scan(&repID))
	sched, err := scheduler.New(pool, store, scheduler.Simulator{}, scheduler.Config{}, whQuiet, false)
	require.NoError(t, err)
	srv := New(Deps{Store: store, Logger: whQuiet, PublicURL: publicURL, TwilioAuthToken: token, Inbox: sched})
	return whBundle{pool: pool, store: store, sched: sched, handler: srv.Handler(), orgID: org.ID, repID: repID}
}

// post posts the raw form body to path with the X-Twilio-Signature header
// signature ("" for none).
func (b whBundle) post(path, body, signature string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return rec
}

// postSigned posts body to path signed for whPublicURL+path.
func (b whBundle) postSigned(t testing.TB, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	return b.post(path, body, whSign(t, whToken, whPublicURL+path, body))
}

// whSign signs a raw form body for rawURL as Twilio does.
func whSign(t testing.TB, token, rawURL, body string) string {
	t.Helper()
	form, err := url.ParseQuery(body)
	require.NoError(t, err)
	return twilioemu.Signature(token, rawURL, form)
}

func (b whBundle) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func (b whBundle) inboundCount(t testing.TB) int {
	return b.count(t, `SELECT count(*) FROM messages WHERE direction = 'inbound'`)
}

func (b whBundle) replyJobs(t testing.TB) int {
	return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'process_reply'`)
}

// outbound stores a message that the provider accepted with sid, as the
// send job leaves it, and returns its id.
func (b whBundle) outbound(t testing.TB, sid string, status lessons.MessageStatus) int64 {
	t.Helper()
	now := time.Now()
	var id int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `
		INSERT INTO messages (org_id, rep_id, direction, purpose, body, encoding, segments, status, provider_sid,
			scheduled_at, created_at, sent_at, updated_at)
		VALUES ($1, $2, 'outbound', 'lesson', 'Lesson 1', 'GSM-7', 1, $3, nullif($4, ''), $5, $5,
			CASE WHEN $4 = '' THEN NULL ELSE $5::timestamptz END, $5)
		RETURNING id`, b.orgID, b.repID, status, sid, now).Scan(&id))
	return id
}

type whMessage struct {
	Status      string
	ErrorCode   int
	DeliveredAt *time.Time
}

func (b whBundle) message(t testing.TB, id int64) whMessage {
	t.Helper()
	var m whMessage
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT status, coalesce(error_code, 0), delivered_at
		FROM messages WHERE id = $1`, id).Scan(&m.Status, &m.ErrorCode, &m.DeliveredAt))
	return m
}

func requireTwiML(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	require.Equal(t, "text/xml", rec.Header().Get("Content-Type"))
	require.Equal(t, `<?xml version="1.0" encoding="UTF-8"?><Response/>`, rec.Body.String())
}

func TestTwilioSignature(t *testing.T) {
	t.Parallel()
	const path = "/webhooks/twilio/sms"
	body := whFixture(t, "inbound_answer")
	sign := func(rawURL string) func(*testing.T) string {
		return func(t *testing.T) string { return whSign(t, whToken, rawURL, body) }
	}
	tests := []struct {
		name      string
		publicURL string
		token     string // the server's; "" means whToken
		path      string // requested; "" means path
		body      string // posted; "" means body
		signature func(*testing.T) string
		status    int
	}{
		{name: "good", signature: sign(whPublicURL + path), status: http.StatusOK},
		{name: "PUBLIC_URL with a trailing slash", publicURL: whPublicURL + "/", signature: sign(whPublicURL + path), status: http.StatusOK},
		{name: "port and query", publicURL: "https://morsel.example:8443", path: path + "?x=1",
			signature: sign("https://morsel.example:8443" + path + "?x=1"), status: http.StatusOK},
		// twilio-go also accepts the URL without its port: Twilio's own
		// signing has not always kept it.
		{name: "port, signed without it", publicURL: "https://morsel.example:8443", path: path + "?x=1",
			signature: sign(whPublicURL + path + "?x=1"), status: http.StatusOK},
		{name: "port, signed for another port", publicURL: "https://morsel.example:8443", path: path + "?x=1",
			signature: sign("https://morsel.example:9443" + path + "?x=1"), status: http.StatusForbidden},
		{name: "query, signed without it", publicURL: "https://morsel.example:8443", path: path + "?x=1",
			signature: sign("https://morsel.example:8443" + path), status: http.StatusForbidden},
		{name: "query changed", path: path + "?x=2", signature: sign(whPublicURL + path + "?x=1"), status: http.StatusForbidden},
		{name: "missing", signature: func(*testing.T) string { return "" }, status: http.StatusForbidden},
		{name: "bad", signature: func(*testing.T) string { return "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==" }, status: http.StatusForbidden},
		{name: "garbage", signature: func(*testing.T) string { return "!!!" }, status: http.StatusForbidden},
		{name: "another auth token", signature: func(t *testing.T) string { return whSign(t, "0000", whPublicURL+path, body) }, status: http.StatusForbidden},
		{name: "another host", signature: sign("https://evil.example" + path), status: http.StatusForbidden},
		{name: "http instead of https", signature: sign("http://morsel.example" + path), status: http.StatusForbidden},
		{name: "another path", signature: sign(whPublicURL + "/webhooks/twilio/status"), status: http.StatusForbidden},
		{name: "body changed after signing", body: strings.Replace(body, "Body=B", "Body=A", 1),
			signature: sign(whPublicURL + path), status: http.StatusForbidden},
		{name: "field added after signing", body: body + "&Extra=1", signature: sign(whPublicURL + path), status: http.StatusForbidden},
		{name: "no auth token configured", token: "-", signature: sign(whPublicURL + path), status: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			publicURL, token, reqPath, reqBody := whPublicURL, whToken, path, body
			if tt.publicURL != "" {
				publicURL = tt.publicURL
			}
			switch tt.token {
			case "":
			case "-":
				token = ""
			default:
				token = tt.token
			}
			if tt.path != "" {
				reqPath = tt.path
			}
			if tt.body != "" {
				reqBody = tt.body
			}
			b := newWHBundle(t, publicURL, token)
			rec := b.post(reqPath, reqBody, tt.signature(t))
			require.Equal(t, tt.status, rec.Code, "body: %s", rec.Body)
			if tt.status == http.StatusOK {
				requireTwiML(t, rec)
				require.Equal(t, 1, b.inboundCount(t))
				require.Equal(t, 1, b.replyJobs(t))
				return
			}
			require.Equal(t, 0, b.count(t, `SELECT count(*) FROM messages`), "nothing is stored")
			require.Equal(t, 0, b.replyJobs(t), "nothing is queued")
			require.NotContains(t, rec.Body.String(), "TWILIO_AUTH_TOKEN", "a caller learns nothing of the settings")
		})
	}
}

// TestTwilioStatusSignature: status callbacks are checked the same way.
func TestTwilioStatusSignature(t *testing.T) {
	t.Parallel()
	const path = "/webhooks/twilio/status"
	b := newWHBundle(t, whPublicURL, whToken)
	id := b.outbound(t, whStatusSID, lessons.MessageQueued)
	body := whFixture(t, "status_delivered")
	for _, sig := range []string{"", "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==", whSign(t, whToken, "https://evil.example"+path, body)} {
		rec := b.post(path, body, sig)
		require.Equal(t, http.StatusForbidden, rec.Code)
	}
	require.Equal(t, "queued", b.message(t, id).Status, "an unsigned callback changes nothing")
	require.Equal(t, 0, b.count(t, `SELECT count(*) FROM early_statuses`))
	requireTwiML(t, b.postSigned(t, path, body))
	require.Equal(t, "delivered", b.message(t, id).Status)
}

// TestTwilioInboundReplay posts the same signed message twice, as Twilio
// does when our answer is slow: one message is stored, one job queued.
func TestTwilioInboundReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newWHBundle(t, whPublicURL, whToken)
	body := whFixture(t, "inbound_answer")
	for range 2 {
		requireTwiML(t, b.postSigned(t, "/webhooks/twilio/sms", body))
	}
	require.Equal(t, 1, b.inboundCount(t))
	require.Equal(t, 1, b.replyJobs(t))

	var from, to, text, sid string
	var repID, orgID int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT from_number, to_number, body, provider_sid, rep_id, org_id
		FROM messages WHERE direction = 'inbound'`).Scan(&from, &to, &text, &sid, &repID, &orgID))
	require.Equal(t, []any{whRepPhone, "+15005550006", "B", whInboundID, b.repID, b.orgID}, []any{from, to, text, sid, repID, orgID})
}

func TestTwilioInbound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		status  int
		body    string // stored, for a good message
	}{
		{"inbound_answer", http.StatusOK, "B"},
		{"inbound_service_unicode", http.StatusOK, "Can I get the video again? 🙏\nThanks"},
		{"inbound_bad_from", http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			b := newWHBundle(t, whPublicURL, whToken)
			rec := b.postSigned(t, "/webhooks/twilio/sms", whFixture(t, tt.fixture))
			require.Equal(t, tt.status, rec.Code, "body: %s", rec.Body)
			if tt.status != http.StatusOK {
				require.Equal(t, 0, b.inboundCount(t))
				return
			}
			requireTwiML(t, rec)
			var body, encoding string
			require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT body, encoding FROM messages
				WHERE direction = 'inbound' AND rep_id = $1`, b.repID).Scan(&body, &encoding))
			require.Equal(t, tt.body, body)
		})
	}
}

// A STOP through the webhook, from a phone that two organisations text from
// the shared sender, opts the rep out of both: carriers block the sender, not
// the organisation. (lessons' routing tests cover START, HELP and answers.)
func TestTwilioStopReachesEveryOrganisation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newWHBundle(t, whPublicURL, whToken)
	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "globex", Name: "Globex"})
	require.NoError(t, err)
	_, err = b.store.ImportReps(ctx, other.ID, []lessons.RepInput{{Name: "Ava A.", Phone: whRepPhone, TimeZone: "UTC"}})
	require.NoError(t, err)
	b.outbound(t, "SM"+strings.Repeat("1", 32), lessons.MessageDelivered)
	_, err = b.pool.Exec(ctx, `INSERT INTO messages (org_id, rep_id, direction, purpose, body, encoding, segments, status,
			scheduled_at, created_at, updated_at)
		SELECT org_id, id, 'outbound', 'lesson', 'Globex lesson', 'GSM-7', 1, 'delivered', now(), now(), now()
		FROM reps WHERE org_id = $1`, other.ID) // Globex wrote last
	require.NoError(t, err)

	rec := b.postSigned(t, "/webhooks/twilio/sms", whFixture(t, "inbound_stop"))
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	var replyID int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT (args->>'message_id')::bigint FROM river_job WHERE kind = 'process_reply'`).Scan(&replyID))
	// The reply job's work, as the scheduler's worker does it.
	require.NoError(t, pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		_, err := b.store.ProcessReply(ctx, tx, replyID)
		return err
	}))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM reps WHERE phone = $1 AND opted_out_at IS NOT NULL`, whRepPhone),
		"both organisations stop texting the phone")
	require.Equal(t, 2, b.count(t, `SELECT count(DISTINCT org_id) FROM messages WHERE purpose = 'confirmation'`),
		"each organisation confirms for itself")
}

func TestTwilioStatusCallbacks(t *testing.T) {
	t.Parallel()
	const path = "/webhooks/twilio/status"
	tests := []struct {
		name     string
		fixtures []string
		want     string
		code     int
		invalid  bool // the rep's phone is marked unable to receive SMS
	}{
		{"sent then delivered", []string{"status_sent", "status_delivered"}, "delivered", 0, false},
		{"delivered then a late sent", []string{"status_delivered", "status_sent"}, "delivered", 0, false},
		{"sent through a messaging service", []string{"status_sent_service"}, "sent", 0, false},
		{"sent twice", []string{"status_sent", "status_sent"}, "sent", 0, false},
		{"undelivered: landline", []string{"status_sent", "status_undelivered_30006"}, "undelivered", 30006, true},
		{"undelivered, then a late delivered", []string{"status_undelivered_30006", "status_delivered"}, "undelivered", 30006, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newWHBundle(t, whPublicURL, whToken)
			id := b.outbound(t, whStatusSID, lessons.MessageQueued)
			for _, f := range tt.fixtures {
				requireTwiML(t, b.postSigned(t, path, whFixture(t, f)))
			}
			m := b.message(t, id)
			require.Equal(t, tt.want, m.Status)
			require.Equal(t, tt.code, m.ErrorCode)
			require.Equal(t, tt.want == "delivered", m.DeliveredAt != nil)
			var invalidAt *time.Time
			var reason string
			require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT phone_invalid_at, phone_invalid_reason FROM reps WHERE id = $1`,
				b.repID).Scan(&invalidAt, &reason))
			require.Equal(t, tt.invalid, invalidAt != nil)
			if tt.invalid {
				require.True(t, strings.HasPrefix(reason, "30006"), reason)
			}
		})
	}
}

// TestTwilioEarlyStatus: a callback can overtake the commit of the send that
// stored its sid. It is kept, and applied when the sid is recorded.
func TestTwilioEarlyStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newWHBundle(t, whPublicURL, whToken)
	id := b.outbound(t, "", lessons.MessageScheduled) // being sent: no sid yet

	requireTwiML(t, b.postSigned(t, "/webhooks/twilio/status", whFixture(t, "status_sent")))
	requireTwiML(t, b.postSigned(t, "/webhooks/twilio/status", whFixture(t, "status_delivered")))
	requireTwiML(t, b.postSigned(t, "/webhooks/twilio/status", whFixture(t, "status_sent"))) // late, and lower
	require.Equal(t, "scheduled", b.message(t, id).Status)
	var early string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT status FROM early_statuses WHERE provider_sid = $1`, whStatusSID).Scan(&early))
	require.Equal(t, "delivered", early, "the furthest status is kept")

	require.NoError(t, pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		_, late, err := b.store.MarkAcceptedMany(ctx, tx, []lessons.Accepted{{ID: id, SID: whStatusSID}})
		require.Empty(t, late, "the message was still scheduled")
		return err
	}))
	m := b.message(t, id)
	require.Equal(t, "delivered", m.Status)
	require.NotNil(t, m.DeliveredAt)
	require.Equal(t, 0, b.count(t, `SELECT count(*) FROM early_statuses`))
}

func TestTwilioStatusRejects(t *testing.T) {
	t.Parallel()
	b := newWHBundle(t, whPublicURL, whToken)
	id := b.outbound(t, whStatusSID, lessons.MessageQueued)
	tests := []struct {
		fixture string
		field   string
	}{
		{"status_bad_sid", "MessageSid"},
		{"status_bad_status", "MessageStatus"},
		{"status_bad_error_code", "ErrorCode"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			body := whFixture(t, tt.fixture)
			rec := b.postSigned(t, "/webhooks/twilio/status", body)
			require.Equal(t, http.StatusBadRequest, rec.Code, "body: %s", rec.Body)
			require.Contains(t, rec.Body.String(), "status callback is not valid")

			form, err := url.ParseQuery(body)
			require.NoError(t, err)
			_, err = parseStatusCallback(form)
			e := errs.As(err)
			require.NotNil(t, e)
			require.Equal(t, errs.Invalid, e.Code)
			var paths []string
			for _, d := range e.Details {
				paths = append(paths, d.Path)
			}
			require.Equal(t, []string{tt.field}, paths)
		})
	}
	require.Equal(t, "queued", b.message(t, id).Status)
	require.Equal(t, 0, b.count(t, `SELECT count(*) FROM early_statuses`))
}

// whSeeds are the raw bodies of every fixture, for the fuzz tests.
func whSeeds(f *testing.F, prefix string) {
	names, err := filepath.Glob(filepath.Join("testdata", "twilio", prefix+"*.txt"))
	require.NoError(f, err)
	require.NotEmpty(f, names)
	for _, n := range names {
		f.Add(whFixture(f, strings.TrimSuffix(filepath.Base(n), ".txt")))
	}
}

func FuzzParseStatusCallback(f *testing.F) {
	whSeeds(f, "status_")
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&MessageStatus=failed&ErrorCode=99999&ErrorMessage=" + strings.Repeat("%C3%A9", 300))
	f.Add("SmsSid=SIM0123456789abcdef0123456789abcdef&SmsStatus=read&ErrorCode=-1")
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&MessageSid=xyz&MessageStatus=sent")
	statuses := slices.Collect(func(yield func(lessons.MessageStatus) bool) {
		for _, s := range twilioStatuses {
			if !yield(s) {
				return
			}
		}
	})
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		cb, err := parseStatusCallback(form)
		if err != nil {
			e := errs.As(err)
			require.NotNil(t, e, "%v", err)
			require.Equal(t, errs.Invalid, e.Code)
			require.NotEmpty(t, e.Details)
			return
		}
		require.Regexp(t, sidPattern, cb.SID)
		require.Contains(t, statuses, cb.Status)
		require.GreaterOrEqual(t, cb.ErrorCode, 0)
		require.LessOrEqual(t, cb.ErrorCode, 99999)
		require.LessOrEqual(t, len(cb.ErrorMessage), 500)
	})
}

func FuzzParseInboundSMS(f *testing.F) {
	whSeeds(f, "inbound_")
	f.Add("MessageSid=SIM0123456789abcdef0123456789abcdef&From=%2B12012345678&To=%2B15005550006&Body=")
	f.Add("SmsMessageSid=SM0123456789abcdef0123456789abcdef&From=%2B12012345678&To=%2B15005550006&Body=%FF&MessagingServiceSid=MGx")
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B12012345678&To=%2B15005550006&Body=" + strings.Repeat("%F0%9F%99%8F", 1601))
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		in, err := parseInboundSMS(form)
		if err != nil {
			e := errs.As(err)
			require.NotNil(t, e, "%v", err)
			require.Equal(t, errs.Invalid, e.Code)
			require.NotEmpty(t, e.Details)
			return
		}
		require.Regexp(t, sidPattern, in.SID)
		require.Regexp(t, e164Pattern, in.From)
		require.Regexp(t, e164Pattern, in.To)
		if in.MessagingServiceSID != "" {
			require.Regexp(t, serviceSIDPattern, in.MessagingServiceSID)
		}
		require.True(t, utf8.ValidString(in.Body))
		require.LessOrEqual(t, utf8.RuneCountInString(in.Body), maxBody)
	})
}

// BenchmarkInboundWebhook posts signed inbound messages, each new, through
// the handler to the real Inbox on Postgres: check the signature, parse,
// store the message and queue its job in one transaction. It reports the
// mean as ns/op and the 50th and 99th percentiles.
func BenchmarkInboundWebhook(b *testing.B) {
	wb := newWHBundle(b, whPublicURL, whToken)
	const path = "/webhooks/twilio/sms"
	base, err := url.ParseQuery(whFixture(b, "inbound_answer"))
	require.NoError(b, err)
	bodies := make([]string, b.N)
	signatures := make([]string, b.N)
	for i := range b.N {
		form := url.Values{}
		for k, v := range base {
			form[k] = slices.Clone(v)
		}
		sid := fmt.Sprintf("SM%032x", i+1)
		form.Set("MessageSid", sid)
		form.Set("SmsMessageSid", sid)
		form.Set("SmsSid", sid)
		bodies[i] = form.Encode()
		signatures[i] = twilioemu.Signature(whToken, whPublicURL+path, form)
	}
	took := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		rec := wb.post(path, bodies[i], signatures[i])
		took[i] = time.Since(start)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.StopTimer()
	slices.Sort(took)
	pct := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	if n := wb.inboundCount(b); n != b.N {
		b.Fatalf("%d messages stored, want %d", n, b.N)
	}
}
