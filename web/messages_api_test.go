package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
)

type messageJSON struct {
	ID           int64   `json:"id"`
	RepID        int64   `json:"rep_id"`
	EnrollmentID *int64  `json:"enrollment_id"`
	AssignmentID *int64  `json:"assignment_id"`
	Direction    string  `json:"direction"`
	Purpose      string  `json:"purpose"`
	Body         string  `json:"body"`
	Encoding     string  `json:"encoding"`
	Segments     int     `json:"segments"`
	Status       string  `json:"status"`
	ProviderSID  *string `json:"provider_sid"`
	ErrorCode    *int    `json:"error_code"`
	ErrorMessage string  `json:"error_message"`
	ScheduledAt  *string `json:"scheduled_at"`
	CreatedAt    string  `json:"created_at"`
	SentAt       *string `json:"sent_at"`
	DeliveredAt  *string `json:"delivered_at"`
}

type messageList struct {
	Data      []messageJSON `json:"data"`
	NextAfter *int64        `json:"next_after"`
}

func TestRepMessagesAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	// Globex texts from a number of its own, so Ava's reply is Acme's.
	_, err := b.pool.Exec(ctx, `UPDATE organisations SET sms_from = '+15005550009' WHERE id = $1`, b.other.ID)
	require.NoError(t, err)
	ava := simRep(t, b, b.org.ID, "Ava Adams", "+12012345678", "America/New_York")
	quinn := simRep(t, b, b.org.ID, "Quinn Quiet", "+13122345678", "UTC")
	otto := simRep(t, b, b.other.ID, "Otto Other", "+12012345678", "UTC")

	at := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	delivered := simOutbound(t, b, b.org.ID, ava, simMessage{purpose: lessons.PurposeLesson, status: lessons.MessageDelivered, at: at,
		sid: "SM" + strings.Repeat("a", 32), body: "Lesson 1"})
	failed := simOutbound(t, b, b.org.ID, ava, simMessage{purpose: lessons.PurposeReminder, status: lessons.MessageUndelivered, at: at.Add(time.Hour),
		sid: "SM" + strings.Repeat("b", 32), body: "Due Friday", errorCode: 30006, errorMessage: "Landline or unreachable carrier"})
	scheduled := simOutbound(t, b, b.org.ID, ava, simMessage{purpose: lessons.PurposeLesson, status: lessons.MessageScheduled, at: at.Add(48 * time.Hour),
		body: "Lesson 2"})
	simOutbound(t, b, b.other.ID, otto, simMessage{purpose: lessons.PurposeLesson, status: lessons.MessageQueued, at: at, sid: "SM" + strings.Repeat("c", 32),
		body: "Globex lesson"})
	sched, err := scheduler.New(b.pool, b.store, scheduler.Simulator{}, scheduler.Config{}, quiet, false)
	require.NoError(t, err)
	require.NoError(t, sched.Receive(ctx, lessons.InboundSMS{SID: "SM" + strings.Repeat("d", 32), From: "+12012345678", To: "+15005550006", Body: "B 👍"}))

	res := b.api(t, "GET", fmt.Sprintf("/api/v1/reps/%d/messages", ava), "")
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	require.Equal(t, "no-store", res.header.Get("Cache-Control"))
	var list messageList
	res.decode(t, &list)
	require.Nil(t, list.NextAfter)
	require.Len(t, list.Data, 4)

	d := list.Data[0]
	require.Equal(t, delivered, d.ID)
	require.Equal(t, ava, d.RepID)
	require.Equal(t, "outbound", d.Direction)
	require.Equal(t, "lesson", d.Purpose)
	require.Equal(t, "delivered", d.Status)
	require.Equal(t, "GSM-7", d.Encoding)
	require.Equal(t, 1, d.Segments)
	require.Equal(t, "SM"+strings.Repeat("a", 32), *d.ProviderSID)
	require.Nil(t, d.ErrorCode)
	require.Equal(t, "2026-03-02T14:00:00Z", *d.ScheduledAt)
	require.Equal(t, "2026-03-02T14:00:00Z", *d.SentAt)
	require.Equal(t, "2026-03-02T14:00:02Z", *d.DeliveredAt)
	require.Nil(t, d.EnrollmentID)

	f := list.Data[1]
	require.Equal(t, failed, f.ID)
	require.Equal(t, "undelivered", f.Status)
	require.Equal(t, 30006, *f.ErrorCode)
	require.Equal(t, "Landline or unreachable carrier", f.ErrorMessage)
	require.Nil(t, f.DeliveredAt)

	s := list.Data[2]
	require.Equal(t, scheduled, s.ID)
	require.Equal(t, "scheduled", s.Status)
	require.Nil(t, s.ProviderSID)
	require.Nil(t, s.SentAt)
	require.Equal(t, "2026-03-04T14:00:00Z", *s.ScheduledAt)

	in := list.Data[3]
	require.Equal(t, "inbound", in.Direction)
	require.Equal(t, "reply", in.Purpose)
	require.Equal(t, "received", in.Status)
	require.Equal(t, "B 👍", in.Body)
	require.Equal(t, "UCS-2", in.Encoding)
	require.Equal(t, 1, in.Segments)
	require.Nil(t, in.ScheduledAt)
	require.Nil(t, in.SentAt)
	require.NotEmpty(t, in.CreatedAt)

	// Pages by id.
	res = b.api(t, "GET", fmt.Sprintf("/api/v1/reps/%d/messages?limit=3", ava), "")
	require.Equal(t, http.StatusOK, res.status)
	res.decode(t, &list)
	require.Len(t, list.Data, 3)
	require.NotNil(t, list.NextAfter)
	require.Equal(t, scheduled, *list.NextAfter)
	res = b.api(t, "GET", fmt.Sprintf("/api/v1/reps/%d/messages?limit=3&after=%d", ava, *list.NextAfter), "")
	require.Equal(t, http.StatusOK, res.status)
	res.decode(t, &list)
	require.Len(t, list.Data, 1)
	require.Equal(t, "inbound", list.Data[0].Direction)

	// A rep without messages has an empty list.
	res = b.api(t, "GET", fmt.Sprintf("/api/v1/reps/%d/messages", quinn), "")
	require.Equal(t, http.StatusOK, res.status)
	require.JSONEq(t, `{"data": [], "next_after": null}`, string(res.body))

	// The other organisation sees only its own rep with the same number.
	res = b.send(t, "GET", fmt.Sprintf("/api/v1/reps/%d/messages", otto), b.otherKey, "", "")
	require.Equal(t, http.StatusOK, res.status)
	res.decode(t, &list)
	require.Len(t, list.Data, 1)
	require.Equal(t, "Globex lesson", list.Data[0].Body)

	for _, tt := range []struct {
		name, path, key string
		status          int
		code, detail    string
	}{
		{"another organisation's rep", fmt.Sprintf("/api/v1/reps/%d/messages", otto), b.key, http.StatusNotFound, "not_found", ""},
		{"seen from the other organisation", fmt.Sprintf("/api/v1/reps/%d/messages", ava), b.otherKey, http.StatusNotFound, "not_found", ""},
		{"no such rep", "/api/v1/reps/999999/messages", b.key, http.StatusNotFound, "not_found", ""},
		{"not an id", "/api/v1/reps/abc/messages", b.key, http.StatusBadRequest, "invalid", "id"},
		{"bad limit", fmt.Sprintf("/api/v1/reps/%d/messages?limit=0", ava), b.key, http.StatusBadRequest, "invalid", "limit"},
		{"bad after", fmt.Sprintf("/api/v1/reps/%d/messages?after=x", ava), b.key, http.StatusBadRequest, "invalid", "after"},
		{"no key", fmt.Sprintf("/api/v1/reps/%d/messages", ava), "", http.StatusUnauthorized, "unauthorized", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := b.send(t, "GET", tt.path, tt.key, "", "")
			require.Equal(t, tt.status, res.status, "body: %s", res.body)
			e := res.apiError(t)
			require.Equal(t, tt.code, e.Error.Code)
			if tt.detail != "" {
				require.Equal(t, []string{tt.detail}, e.detailPaths())
			}
		})
	}
}
