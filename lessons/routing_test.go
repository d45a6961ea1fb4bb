package lessons_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
)

// sharedPhone is one person's phone, a rep of two organisations that both
// text from the shared default sender.
const sharedPhone = "+12125550301"

// routing is two organisations without a sender of their own (Acme Sales and
// Globex), each with a rep at sharedPhone.
type routing struct {
	testBundle
	globex     lessons.Org
	acmeRep    lessons.Rep
	globexRep  lessons.Rep
	courseSlug int
}

func setupRouting(t *testing.T) *routing {
	t.Helper()
	ctx := context.Background()
	b := &routing{testBundle: setup(t)}
	var err error
	b.globex, err = b.store.CreateOrg(ctx, lessons.Org{Slug: "globex", Name: "Globex"})
	require.NoError(t, err)
	b.store = b.queued(&testQueue{}) // enrolling schedules the first lesson
	for _, org := range []int64{b.org.ID, b.globex.ID} {
		_, err := b.store.ImportReps(ctx, org, []lessons.RepInput{{Name: "Pat", Phone: sharedPhone, TimeZone: "America/New_York"}})
		require.NoError(t, err)
	}
	b.acmeRep, err = b.store.RepByPhone(ctx, b.org.ID, sharedPhone)
	require.NoError(t, err)
	b.globexRep, err = b.store.RepByPhone(ctx, b.globex.ID, sharedPhone)
	require.NoError(t, err)
	return b
}

// send enrolls the rep in a new course of one quiz question (or with quiz
// false, one text lesson) and has its first message accepted by the
// provider: the question is open.
func (b *routing) send(t *testing.T, rep lessons.Rep, quiz bool) {
	t.Helper()
	ctx := context.Background()
	b.courseSlug++
	spec := testSpec("course-" + string(rune('a'+b.courseSlug)))
	if quiz {
		spec.Lessons = spec.Lessons[2:]
		spec.Lessons[0].Questions = spec.Lessons[0].Questions[:1]
	} else {
		spec.Lessons = spec.Lessons[:1]
	}
	v, err := b.store.SaveCourse(ctx, rep.OrgID, spec, true)
	require.NoError(t, err)
	_, err = b.store.Enroll(ctx, rep.OrgID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{rep.ID}})
	require.NoError(t, err)
	var id int64
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT max(id) FROM messages WHERE rep_id = $1 AND status = 'scheduled'`, rep.ID).Scan(&id))
	require.NoError(t, pgx.BeginFunc(ctx, b.store.Pool(), func(tx pgx.Tx) error {
		_, _, err := b.store.MarkAcceptedMany(ctx, tx, []lessons.Accepted{{ID: id, SID: randomSID()}})
		return err
	}))
}

func randomSID() string {
	raw := make([]byte, 16)
	rand.Read(raw)
	return "SM" + hex.EncodeToString(raw)
}

// text receives an SMS from sharedPhone to the shared sender and processes
// it, as the webhook and the reply job do; from names the rep when a page
// that knew them took the reply.
func (b *routing) text(t *testing.T, body string, from ...lessons.Rep) {
	t.Helper()
	ctx := context.Background()
	in := lessons.InboundSMS{SID: randomSID(), From: sharedPhone, To: "+15005550006", Body: body}
	if len(from) > 0 {
		in.OrgID, in.RepID = from[0].OrgID, from[0].ID
	}
	require.NoError(t, pgx.BeginFunc(ctx, b.store.Pool(), func(tx pgx.Tx) error {
		id, _, err := b.store.RecordInbound(ctx, tx, in)
		if err != nil {
			return err
		}
		_, err = b.store.ProcessReply(ctx, tx, id)
		return err
	}))
}

// replies returns what each organisation answered the phone, oldest first.
func (b *routing) replies(t *testing.T, purpose lessons.MessagePurpose) map[int64][]string {
	t.Helper()
	rows, err := b.store.Pool().Query(context.Background(),
		`SELECT org_id, body FROM messages WHERE direction = 'outbound' AND purpose = $1 ORDER BY id`, purpose)
	require.NoError(t, err)
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var org int64
		var body string
		require.NoError(t, rows.Scan(&org, &body))
		out[org] = append(out[org], body)
	}
	return out
}

// graded returns the organisations whose reps' answers were graded.
func (b *routing) graded(t *testing.T) []int64 {
	t.Helper()
	rows, err := b.store.Pool().Query(context.Background(), `SELECT org_id FROM attempts ORDER BY id`)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	return out
}

func (b *routing) optedOut(t *testing.T, rep lessons.Rep) bool {
	t.Helper()
	got, err := b.store.Rep(context.Background(), rep.OrgID, rep.ID)
	require.NoError(t, err)
	return got.OptedOutAt != nil
}

// A STOP to the shared sender stops every organisation that texts the phone
// from it, whichever wrote last; START brings each back.
func TestStopReachesEveryOrganisationOfTheSender(t *testing.T) {
	t.Parallel()
	b := setupRouting(t)
	b.send(t, b.acmeRep, true)
	b.send(t, b.globexRep, false) // Globex wrote last

	b.text(t, "STOP")
	require.True(t, b.optedOut(t, b.acmeRep), "Acme keeps texting someone who said STOP")
	require.True(t, b.optedOut(t, b.globexRep))
	require.Equal(t, map[int64][]string{
		b.org.ID:    {"You're unsubscribed from Acme Sales training texts. Reply START to resume."},
		b.globex.ID: {"You're unsubscribed from Globex training texts. Reply START to resume."},
	}, b.replies(t, lessons.PurposeConfirmation))

	b.text(t, "start")
	require.False(t, b.optedOut(t, b.acmeRep))
	require.False(t, b.optedOut(t, b.globexRep))
	require.Len(t, b.replies(t, lessons.PurposeConfirmation)[b.org.ID], 2)
}

func TestAnswerRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		acmeQuiz   bool // Acme has a question open
		globexQuiz bool
		body       string
		fromPage   bool // the reply came from Globex's lesson page
		graded     func(b *routing) []int64
		help       func(b *routing) map[int64][]string
	}{
		{name: "the one organisation with a question open, though the other wrote last", acmeQuiz: true, body: "C",
			graded: func(b *routing) []int64 { return []int64{b.org.ID} }},
		{name: "questions open in both: asked which", acmeQuiz: true, globexQuiz: true, body: "C",
			help: func(b *routing) map[int64][]string {
				return map[int64][]string{b.org.ID: {`You have quiz questions open from Acme Sales and Globex. Reply with the name first, e.g. "Acme Sales B".`}}
			}},
		{name: "questions open in both: the name says which", acmeQuiz: true, globexQuiz: true, body: "globex: c",
			graded: func(b *routing) []int64 { return []int64{b.globex.ID} }},
		{name: "a page that knew the rep answers for that rep only", acmeQuiz: true, body: "C", fromPage: true,
			help: func(b *routing) map[int64][]string {
				return map[int64][]string{b.globex.ID: {"There's no question open right now: your next lesson is on its way. Reply HELP for help, STOP to opt out."}}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupRouting(t)
			b.send(t, b.acmeRep, tt.acmeQuiz)
			b.send(t, b.globexRep, tt.globexQuiz)
			if tt.fromPage {
				b.text(t, tt.body, b.globexRep)
			} else {
				b.text(t, tt.body)
			}
			want := []int64{}
			if tt.graded != nil {
				want = tt.graded(b)
			}
			require.Equal(t, want, b.graded(t))
			wantHelp := map[int64][]string{}
			if tt.help != nil {
				wantHelp = tt.help(b)
			}
			require.Equal(t, wantHelp, b.replies(t, lessons.PurposeHelp))
		})
	}
}
