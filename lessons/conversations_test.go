package lessons_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

// convRep stores a rep of the organisation and returns its id.
func convRep(t *testing.T, store *lessons.Store, orgID int64, name, phone string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, store.Pool().QueryRow(context.Background(), `
		INSERT INTO reps (org_id, name, phone, time_zone) VALUES ($1, $2, $3, 'America/New_York') RETURNING id`,
		orgID, name, phone).Scan(&id))
	return id
}

// convOutbound stores an outbound message as the scheduler leaves it: sent at
// sentAt when that is set, else still scheduled for at. There is no store
// method that writes a single free-standing message.
func convOutbound(t *testing.T, store *lessons.Store, orgID, repID int64, purpose lessons.MessagePurpose, body string,
	status lessons.MessageStatus, at time.Time, sentAt *time.Time) int64 {
	t.Helper()
	var id int64
	require.NoError(t, store.Pool().QueryRow(context.Background(), `
		INSERT INTO messages (org_id, rep_id, direction, purpose, body, encoding, segments, status,
			scheduled_at, created_at, sent_at, updated_at)
		VALUES ($1, $2, 'outbound', $3, $4, 'GSM-7', 1, $5, $6, $6, $7, $6) RETURNING id`,
		orgID, repID, purpose, body, status, at, sentAt).Scan(&id))
	return id
}

// convReceive stores an inbound message as the webhook does, at now.
func convReceive(t *testing.T, b testBundle, in lessons.InboundSMS) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	require.NoError(t, pgx.BeginFunc(ctx, b.store.Pool(), func(tx pgx.Tx) error {
		var err error
		id, _, err = b.store.RecordInbound(ctx, tx, in)
		return err
	}))
	require.NotZero(t, id)
	return id
}

func TestConversation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "globex", Name: "Globex", SMSFrom: "+15005550009"})
	require.NoError(t, err)

	ava := convRep(t, b.store, b.org.ID, "Ava Adams", "+12012345678")
	ben := convRep(t, b.store, b.org.ID, "Ben Brown", "+13122345678")
	quiet := convRep(t, b.store, b.org.ID, "Quinn Quiet", "+14152345678")
	otto := convRep(t, b.store, other.ID, "Otto Other", "+12012345678") // Ava's number, in another organisation

	h := func(n int) time.Time { return b.now.Add(time.Duration(n) * time.Hour) }
	ptr := func(t time.Time) *time.Time { return &t }
	lesson := convOutbound(t, b.store, b.org.ID, ava, lessons.PurposeLesson, "Lesson 1: discounts", lessons.MessageDelivered, h(-5), ptr(h(-5)))
	question := convOutbound(t, b.store, b.org.ID, ava, lessons.PurposeQuestion, "Q1? A) 5% B) 20%", lessons.MessageSent, h(-4), ptr(h(-4)))
	// Created before the reply but due tomorrow: the phone shows it last.
	next := convOutbound(t, b.store, b.org.ID, ava, lessons.PurposeLesson, "Lesson 2: margins", lessons.MessageScheduled, h(20), nil)
	reply := convReceive(t, b, lessons.InboundSMS{SID: "SM" + convHex(1), From: "+12012345678", To: "+15005550006", Body: "B"})
	convOutbound(t, b.store, b.org.ID, ben, lessons.PurposeLesson, "Lesson 1 for Ben", lessons.MessageFailed, h(-1), nil)
	convOutbound(t, b.store, other.ID, otto, lessons.PurposeLesson, "Globex lesson", lessons.MessageQueued, h(-3), ptr(h(-3)))

	got, err := b.store.Conversation(ctx, b.org.ID, ava, 50)
	require.NoError(t, err)
	ids := make([]int64, len(got))
	for i, m := range got {
		ids[i] = m.ID
	}
	require.Equal(t, []int64{lesson, question, reply, next}, ids)

	first := got[0]
	require.True(t, first.Outbound)
	require.Equal(t, lessons.PurposeLesson, first.Purpose)
	require.Equal(t, lessons.MessageDelivered, first.Status)
	require.Equal(t, "Lesson 1: discounts", first.Body)
	require.Equal(t, b.org.ID, first.OrgID)
	require.Equal(t, ava, first.RepID)
	require.True(t, first.ScheduledAt.Equal(h(-5)))
	require.NotNil(t, first.SentAt)

	in := got[2]
	require.False(t, in.Outbound)
	require.Equal(t, lessons.PurposeReply, in.Purpose)
	require.Equal(t, lessons.MessageReceived, in.Status)
	require.Equal(t, "B", in.Body)
	require.Equal(t, "SM"+convHex(1), in.ProviderSID)
	require.True(t, in.ScheduledAt.IsZero())
	require.Nil(t, in.SentAt)
	require.True(t, in.CreatedAt.Equal(b.now))

	require.Equal(t, lessons.MessageScheduled, got[3].Status)
	require.Nil(t, got[3].SentAt)

	// The last limit, still oldest first.
	last2, err := b.store.Conversation(ctx, b.org.ID, ava, 2)
	require.NoError(t, err)
	require.Len(t, last2, 2)
	require.Equal(t, []int64{reply, next}, []int64{last2[0].ID, last2[1].ID})

	// The same number in another organisation is another conversation.
	otherConv, err := b.store.Conversation(ctx, other.ID, otto, 50)
	require.NoError(t, err)
	require.Len(t, otherConv, 1)
	require.Equal(t, "Globex lesson", otherConv[0].Body)

	none, err := b.store.Conversation(ctx, b.org.ID, quiet, 50)
	require.NoError(t, err)
	require.Empty(t, none)

	for _, tt := range []struct {
		name         string
		orgID, repID int64
	}{
		{"another organisation's rep", b.org.ID, otto},
		{"a rep seen from another organisation", other.ID, ava},
		{"no such rep", b.org.ID, 999999},
	} {
		_, err := b.store.Conversation(ctx, tt.orgID, tt.repID, 50)
		requireCode(t, err, errs.NotFound)
		_, err = b.store.RepMessages(ctx, tt.orgID, tt.repID, lessons.MessageFilter{})
		requireCode(t, err, errs.NotFound)
	}
}

func TestRepMessagesPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	ava := convRep(t, b.store, b.org.ID, "Ava Adams", "+12012345678")
	var want []int64
	for i := range 5 {
		want = append(want, convOutbound(t, b.store, b.org.ID, ava, lessons.PurposeLesson, "lesson", lessons.MessageScheduled, b.now.Add(time.Duration(-i)*time.Hour), nil))
	}
	page1, err := b.store.RepMessages(ctx, b.org.ID, ava, lessons.MessageFilter{Limit: 3})
	require.NoError(t, err)
	require.Len(t, page1, 3)
	page2, err := b.store.RepMessages(ctx, b.org.ID, ava, lessons.MessageFilter{AfterID: page1[2].ID, Limit: 3})
	require.NoError(t, err)
	var got []int64
	for _, m := range append(page1, page2...) {
		got = append(got, m.ID)
	}
	require.Equal(t, want, got, "by id, whatever the times")
}

func TestConversations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "globex", Name: "Globex", SMSFrom: "+15005550009"})
	require.NoError(t, err)
	ava := convRep(t, b.store, b.org.ID, "Ava Adams", "+12012345678")
	ben := convRep(t, b.store, b.org.ID, "Ben Brown", "+13122345678")
	convRep(t, b.store, b.org.ID, "Quinn Quiet", "+14152345678") // no messages: not listed
	otto := convRep(t, b.store, other.ID, "Otto Other", "+12012345678")

	h := func(n int) time.Time { return b.now.Add(time.Duration(n) * time.Hour) }
	convOutbound(t, b.store, b.org.ID, ava, lessons.PurposeLesson, "Lesson 1", lessons.MessageDelivered, h(-5), &[]time.Time{h(-5)}[0])
	convOutbound(t, b.store, b.org.ID, ava, lessons.PurposeQuestion, "Q1?", lessons.MessageSent, h(-4), &[]time.Time{h(-4)}[0])
	convReceive(t, b, lessons.InboundSMS{SID: "SM" + convHex(2), From: "+12012345678", To: "+15005550006", Body: "B"}) // at b.now
	convOutbound(t, b.store, b.org.ID, ben, lessons.PurposeLesson, "Ben's lesson", lessons.MessageFailed, h(-1), nil)
	convOutbound(t, b.store, other.ID, otto, lessons.PurposeLesson, "Globex lesson", lessons.MessageQueued, h(2), nil)

	got, err := b.store.Conversations(ctx, b.org.ID, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, lessons.ConversationSummary{
		RepID: ava, OrgID: b.org.ID, Name: "Ava Adams", Phone: "+12012345678", TimeZone: "America/New_York",
		LastBody: "B", LastOutbound: false, LastStatus: lessons.MessageReceived, LastAt: got[0].LastAt,
		Inbound: 1, Outbound: 2,
	}, got[0])
	require.True(t, got[0].LastAt.Equal(b.now))
	require.Equal(t, ben, got[1].RepID)
	require.Equal(t, "Ben's lesson", got[1].LastBody)
	require.True(t, got[1].LastOutbound)
	require.Equal(t, lessons.MessageFailed, got[1].LastStatus)
	require.Equal(t, 0, got[1].Inbound)
	require.Equal(t, 1, got[1].Outbound)

	limited, err := b.store.Conversations(ctx, b.org.ID, 1)
	require.NoError(t, err)
	require.Len(t, limited, 1)
	require.Equal(t, ava, limited[0].RepID)

	others, err := b.store.Conversations(ctx, other.ID, 10)
	require.NoError(t, err)
	require.Len(t, others, 1)
	require.Equal(t, otto, others[0].RepID)

}

// convHex is a 32-digit hex number ending in n, the tail of a message sid.
func convHex(n int) string {
	const zeros = "00000000000000000000000000000000"
	s := []byte(zeros)
	for i := len(s) - 1; n > 0 && i >= 0; i-- {
		s[i] = "0123456789abcdef"[n%16]
		n /= 16
	}
	return string(s)
}
