package scheduler_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// countingSender counts the calls a scheduler makes to its sender.
type countingSender struct {
	scheduler.Sender
	sends, finds atomic.Int32
}

func (c *countingSender) Send(ctx context.Context, m scheduler.SMS) (scheduler.Accepted, error) {
	c.sends.Add(1)
	return c.Sender.Send(ctx, m)
}

func (c *countingSender) Find(ctx context.Context, m scheduler.SMS, since time.Time) ([]string, error) {
	c.finds.Add(1)
	return c.Sender.Find(ctx, m, since)
}

// heldTime is River's time for a test that looks at a message between two
// attempts: it moves only when the test moves it, so that a retry (due 2 s
// after a failure) is not fetched before the test has looked.
type heldTime struct {
	mu sync.Mutex
	t  time.Time
}

func (h *heldTime) set(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.t = t
}

func (h *heldTime) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.t
}

func (h *heldTime) NowOrNil() *time.Time {
	t := h.Now()
	return &t
}

// counted replaces b's scheduler with one whose sender, to b's emulator,
// counts its calls; with held, River's time is held's.
func counted(t *testing.T, b testBundle, held *heldTime) (testBundle, *countingSender) {
	t.Helper()
	require.NoError(t, b.sched.Stop(context.Background()))
	tw, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: b.emu.AccountSID(), AuthToken: b.emu.AuthToken(),
		APIURL: b.emu.URL(), Timeout: 2 * time.Second})
	require.NoError(t, err)
	c := &countingSender{Sender: tw}
	b.sched = newScheduler(t, b.pool, b.store, c, b.clock, func(cfg *scheduler.Config) {
		if held != nil {
			cfg.Test = river.TestConfig{Time: held}
		}
	})
	return b, c
}

// runDue is advance for a scheduler on held time: it moves both clocks to
// `to`, releases the jobs due by then and waits until none of them is left to
// run. A job due later (a retry) waits, whatever the real time.
func (b testBundle) runDue(t *testing.T, held *heldTime, to time.Time) {
	t.Helper()
	held.set(to)
	b.clock.set(to)
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for idle := 0; idle < 2; {
		_, err := b.sched.ReleaseDue(ctx, to)
		require.NoError(t, err)
		var busy int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job
			WHERE state = 'running' OR (state IN ('available', 'scheduled', 'retryable') AND scheduled_at <= $1)`, to).Scan(&busy))
		if busy == 0 {
			idle++
			continue
		}
		idle = 0
		require.True(t, time.Now().Before(deadline), "jobs still busy after 20s: %d", busy)
		time.Sleep(20 * time.Millisecond)
	}
}

// sendState is what the messages table says of the one message's send.
type sendState struct {
	Status string
	SID    string
}

func (b testBundle) sendState(t *testing.T, id int64) sendState {
	t.Helper()
	var st sendState
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT status, coalesce(provider_sid, '') FROM messages WHERE id = $1`, id).Scan(&st.Status, &st.SID))
	return st
}

// sendRecord is what the send job's last attempt left in its metadata.
type sendRecord struct {
	Attempt   int    `json:"attempt"`
	MaybeSent bool   `json:"maybe_sent"`
	SID       string `json:"sid,omitempty"`
}

func (b testBundle) sendRecord(t *testing.T) sendRecord {
	t.Helper()
	var rec sendRecord
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT metadata->'send' FROM river_job WHERE kind = 'send_sms' ORDER BY id LIMIT 1`).Scan(&rec))
	return rec
}

// firstMessage returns the id and body of the rep's first lesson.
func (b testBundle) firstMessage(t *testing.T) (int64, string) {
	t.Helper()
	var id int64
	var body string
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT id, body FROM messages ORDER BY id LIMIT 1`).Scan(&id, &body))
	return id, body
}

// Whether a retry looks the message up at the provider, or records a sid it
// was given, comes from the record the last attempt left in the job's
// metadata. The job's errors say otherwise in each case, in the words the
// worker used to parse: they are not read.
func TestRetryActsOnTheLastAttemptsRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		attempts     int    // done before this one
		record       string // the send record in the job's metadata; "" for none
		providerHas  bool   // the provider took the message
		lastError    string
		finds, sends int32
	}{
		{"may have reached the provider, which has it: found, not sent again", 1, `{"attempt": 1, "maybe_sent": true}`, true,
			"transient send failure: error 20503: Service unavailable", 1, 0},
		{"may have reached the provider, which lacks it: looked up, then sent", 1, `{"attempt": 1, "maybe_sent": true}`, false,
			"transient send failure: error 20500: Internal server error", 1, 1},
		{"refused: sent without a lookup", 1, `{"attempt": 1, "maybe_sent": false}`, false,
			"ambiguous send failure: Twilio did not answer in time", 0, 1},
		{"accepted, not recorded: the record's sid is recorded, nothing sent", 1, `{"attempt": 1, "maybe_sent": true, "sid": "<sid>"}`, true,
			"accepted as SM00000000000000000000000000000000, but recording it failed: injected", 0, 0},
		{"no record (the worker died): looked up", 1, "", true,
			"transient send failure: error 20503: Service unavailable", 1, 0},
		{"a record older than the last attempt: looked up", 2, `{"attempt": 1, "maybe_sent": false}`, true,
			"transient send failure: error 20503: Service unavailable", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, _ := oneRep(t, twilioemu.Options{})
			require.NoError(t, b.sched.Stop(ctx))
			id, body := b.firstMessage(t)
			b.clock.set(firstLesson)
			var sid string
			if tt.providerHas {
				tw, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: b.emu.AccountSID(), AuthToken: b.emu.AuthToken(), APIURL: b.emu.URL()})
				require.NoError(t, err)
				acc, err := tw.Send(ctx, scheduler.SMS{From: "+15005550006", To: nyPhone, Body: body})
				require.NoError(t, err)
				sid = acc.SID
			}
			meta := `{}`
			if tt.record != "" {
				meta = `{"send": ` + strings.Replace(tt.record, "<sid>", sid, 1) + `}`
			}
			// The job's last attempt failed with lastError; its retry is due.
			_, err := b.pool.Exec(ctx, `UPDATE river_job SET state = 'retryable', attempt = $3::int, attempted_at = $1, scheduled_at = $1,
				errors = ARRAY[jsonb_build_object('at', $1::timestamptz, 'attempt', $3::int, 'error', $2::text, 'trace', '')],
				metadata = $4::jsonb
				WHERE kind = 'send_sms'`, firstLesson, tt.lastError, tt.attempts, meta)
			require.NoError(t, err)

			b, c := counted(t, b, nil)
			b.advance(t, firstLesson.Add(time.Second))
			require.Equal(t, tt.finds, c.finds.Load(), "lookups")
			require.Equal(t, tt.sends, c.sends.Load(), "sends")
			msgs := b.emu.Messages()
			require.Len(t, msgs, 1, "the provider has the message once")
			require.Equal(t, sendState{Status: "queued", SID: msgs[0].SID}, b.sendState(t, id), "recorded with the provider's sid")
		})
	}
}

// An attempt that the provider answered with a refusal (5xx, 429) records
// that it did not reach it, so that the retry sends without a lookup; one
// that may have reached the provider (a dropped connection, a gateway's 504)
// records that, and the retry looks first.
func TestFailedSendRecordsWhetherItMayHaveReachedTheProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		fault        twilioemu.FaultKind
		maybeSent    bool // recorded by the failed attempt
		finds, sends int32
	}{
		{"500: refused", twilioemu.FaultServerError, false, 0, 2},
		{"429: refused", twilioemu.FaultRateLimited, false, 0, 2},
		{"connection dropped, nothing taken", twilioemu.FaultDrop, true, 1, 2},
		{"taken, then the connection dropped", twilioemu.FaultAcceptThenDrop, true, 1, 1},
		{"taken, then a proxy's 504", twilioemu.FaultGatewayTimeout, true, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			held := &heldTime{t: faultStart}
			b, _ := oneRep(t, twilioemu.Options{})
			b, c := counted(t, b, held)
			id, _ := b.firstMessage(t)
			b.emu.Fail(twilioemu.Fault{Kind: tt.fault, To: nyPhone})

			b.runDue(t, held, firstLesson) // the first attempt fails; its retry is 2 s later
			require.Equal(t, sendState{Status: "scheduled"}, b.sendState(t, id))
			require.Equal(t, sendRecord{Attempt: 1, MaybeSent: tt.maybeSent}, b.sendRecord(t))
			require.Equal(t, int32(1), c.sends.Load())
			require.Zero(t, c.finds.Load())

			b.runDue(t, held, firstLesson.Add(3*time.Second))
			require.Equal(t, tt.finds, c.finds.Load(), "lookups")
			require.Equal(t, tt.sends, c.sends.Load(), "sends")
			require.Equal(t, []string{"Lesson 1"}, lessonTitles(received(b.emu)[nyPhone]), "sent exactly once")
			require.Equal(t, sendState{Status: "queued", SID: b.emu.Messages()[0].SID}, b.sendState(t, id))
		})
	}
}

// The provider takes the message but recording that fails: the attempt
// records the sid in the job, and the retry records the message with it
// rather than sending again.
func TestAcceptedButUnrecordedIsRecordedNotResent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	held := &heldTime{t: faultStart}
	b, _ := oneRep(t, twilioemu.Options{})
	b, c := counted(t, b, held)
	id, _ := b.firstMessage(t)
	_, err := b.pool.Exec(ctx, `
		CREATE FUNCTION fail_recording() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.status = 'queued' THEN RAISE EXCEPTION 'injected fault'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER fail_recording BEFORE UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION fail_recording();`)
	require.NoError(t, err)

	b.runDue(t, held, firstLesson) // sent, not recorded; its retry is 2 s later
	msgs := b.emu.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, sendState{Status: "scheduled"}, b.sendState(t, id))
	require.Equal(t, sendRecord{Attempt: 1, MaybeSent: true, SID: msgs[0].SID}, b.sendRecord(t))
	var lastError string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT errors[array_length(errors, 1)]->>'error' FROM river_job WHERE kind = 'send_sms'`).Scan(&lastError))
	require.Contains(t, lastError, "accepted message", "the error still tells a person what happened")
	require.Contains(t, lastError, msgs[0].SID)

	_, err = b.pool.Exec(ctx, `DROP TRIGGER fail_recording ON messages`)
	require.NoError(t, err)
	b.runDue(t, held, firstLesson.Add(3*time.Second))
	require.Zero(t, c.finds.Load(), "the retry knew the sid")
	require.Equal(t, int32(1), c.sends.Load(), "and did not send again")
	require.Len(t, b.emu.Messages(), 1)
	require.Equal(t, sendState{Status: "queued", SID: msgs[0].SID}, b.sendState(t, id))

	b.runDue(t, held, nextLesson.Add(time.Second))
	require.Equal(t, []string{"Lesson 1", "Lesson 2"}, lessonTitles(received(b.emu)[nyPhone]))
}

// A retry that looks its message up at the provider finds its own send, not
// an identical text sent to the rep earlier the same day, which is another
// message's (two answers both told "Correct!"): before, it took the earlier
// one's sid, which recording refused, on every attempt, and the message was
// never sent.
func TestRetryLookupSkipsAnEarlierIdenticalText(t *testing.T) {
	t.Parallel()
	for _, providerHas := range []bool{true, false} {
		t.Run(map[bool]string{true: "the provider took this one too", false: "only the earlier one"}[providerHas], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, _ := oneRep(t, twilioemu.Options{})
			require.NoError(t, b.sched.Stop(ctx))
			id, body := b.firstMessage(t)
			b.clock.set(firstLesson)
			tw, err := scheduler.NewTwilio(scheduler.TwilioConfig{AccountSID: b.emu.AccountSID(), AuthToken: b.emu.AuthToken(), APIURL: b.emu.URL()})
			require.NoError(t, err)
			// The earlier text, recorded against another message of the rep.
			earlier, err := tw.Send(ctx, scheduler.SMS{From: "+15005550006", To: nyPhone, Body: body})
			require.NoError(t, err)
			_, err = b.pool.Exec(ctx, `
				INSERT INTO messages (org_id, rep_id, direction, purpose, from_number, to_number, body, encoding, segments, status,
					provider_sid, created_at, updated_at)
				SELECT org_id, rep_id, 'outbound', 'help', from_number, to_number, body, encoding, segments, 'sent', $2, created_at, updated_at
				FROM messages WHERE id = $1`, id, earlier.SID)
			require.NoError(t, err)
			var own string
			if providerHas {
				acc, err := tw.Send(ctx, scheduler.SMS{From: "+15005550006", To: nyPhone, Body: body})
				require.NoError(t, err)
				own = acc.SID
			}
			// This message's last attempt may have reached the provider.
			_, err = b.pool.Exec(ctx, `UPDATE river_job SET state = 'retryable', attempt = 1, attempted_at = $1, scheduled_at = $1,
				metadata = '{"send": {"attempt": 1, "maybe_sent": true}}'::jsonb WHERE kind = 'send_sms'`, firstLesson)
			require.NoError(t, err)

			b, c := counted(t, b, nil)
			b.advance(t, firstLesson.Add(time.Second))
			require.Equal(t, int32(1), c.finds.Load(), "looked up")
			st := b.sendState(t, id)
			require.Equal(t, "queued", st.Status, "recorded")
			require.NotEqual(t, earlier.SID, st.SID, "not the earlier text's sid")
			if providerHas {
				require.Equal(t, own, st.SID, "its own send found")
				require.Zero(t, c.sends.Load(), "not sent again")
				require.Len(t, b.emu.Messages(), 2)
			} else {
				require.Equal(t, int32(1), c.sends.Load(), "sent, since the provider had only the earlier one")
				require.Len(t, b.emu.Messages(), 2)
			}
		})
	}
}
