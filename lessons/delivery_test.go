package lessons_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
)

// scheduledMessage enrolls a rep in a published course and returns the id
// of the first lesson's message, scheduled.
func scheduledMessage(t *testing.T, b testBundle, phone string) int64 {
	t.Helper()
	ctx := context.Background()
	v, err := b.store.SaveCourse(ctx, b.org.ID, testSpec("delivery-"+phone[len(phone)-4:]), true)
	require.NoError(t, err)
	_, err = b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{{Name: "Rep", Phone: phone, TimeZone: "America/New_York"}})
	require.NoError(t, err)
	rep, err := b.store.RepByPhone(ctx, b.org.ID, phone)
	require.NoError(t, err)
	_, err = b.queued(&testQueue{}).Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{rep.ID}})
	require.NoError(t, err)
	var id int64
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT id FROM messages WHERE rep_id = $1 AND status = 'scheduled'`, rep.ID).Scan(&id))
	return id
}

// waitBlocked waits until a session waits for an advisory lock, or done is
// closed.
func waitBlocked(t *testing.T, b testBundle, done <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return
		default:
		}
		var waiting int
		require.NoError(t, b.store.Pool().QueryRow(context.Background(),
			`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting))
		if waiting > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the callback neither finished nor waited")
}

// Every status callback is applied once, whichever way it interleaves with
// the transaction that records the send: before it, inside it (the send has
// set the sid and not yet committed), after it.
func TestStatusCallbackInterleavings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		phone string
		when  string // "before", "during" or "after" the send's transaction
	}{
		{"callback before the send commits its sid", "+12125550201", "before"},
		{"callback while the send's transaction is open", "+12125550202", "during"},
		{"callback after the send", "+12125550203", "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			id := scheduledMessage(t, b, tt.phone)
			sid := "SM" + tt.phone[1:] + "0000000000000000000"
			record := func() {
				_, err := b.store.RecordStatus(ctx, sid, lessons.MessageDelivered, 0, "")
				require.NoError(t, err)
			}
			if tt.when == "before" {
				record()
			}
			tx, err := b.store.Pool().Begin(ctx)
			require.NoError(t, err)
			_, late, err := b.store.MarkAcceptedMany(ctx, tx, []lessons.Accepted{{ID: id, SID: sid}})
			require.NoError(t, err)
			require.Empty(t, late)
			if tt.when == "during" {
				done := make(chan struct{})
				go func() { defer close(done); record() }()
				waitBlocked(t, b, done) // the callback has run into the send's open transaction
				require.NoError(t, tx.Commit(ctx))
				<-done
			} else {
				require.NoError(t, tx.Commit(ctx))
			}
			if tt.when == "after" {
				record()
			}
			var status string
			var parked, delivered int
			require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT status FROM messages WHERE id = $1`, id).Scan(&status))
			require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM early_statuses`).Scan(&parked))
			require.NoError(t, b.store.Pool().QueryRow(ctx,
				`SELECT count(*) FROM event_outbox WHERE kind = 'message_delivered'`).Scan(&delivered))
			require.Equal(t, "delivered", status)
			require.Zero(t, parked, "no callback left parked")
			require.Equal(t, 1, delivered, "the delivery recorded once")
		})
	}
}
