package lessons_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
)

// enrollForOperations publishes the test course in org and enrolls one new
// rep a phone through a queued store; it returns the enrollments and the
// first lessons' messages, which enrolling scheduled.
func enrollForOperations(t *testing.T, b testBundle, org int64, phones ...string) ([]lessons.Enrollment, []int64) {
	t.Helper()
	ctx := context.Background()
	var in []lessons.RepInput
	for _, p := range phones {
		in = append(in, lessons.RepInput{Name: "Rep " + p, Phone: p, Team: "North", TimeZone: "America/New_York"})
	}
	_, err := b.store.ImportReps(ctx, org, in)
	require.NoError(t, err)
	teams, err := b.store.Teams(ctx, org)
	require.NoError(t, err)
	v, err := b.store.SaveCourse(ctx, org, testSpec("discounts"), true)
	require.NoError(t, err)
	q := &testQueue{}
	res, err := b.queued(q).Enroll(ctx, org, lessons.EnrollRequest{CourseID: v.CourseID, TeamIDs: []int64{teams[0].ID}})
	require.NoError(t, err)
	require.Len(t, res.Enrollments, len(phones))
	var messages []int64
	for _, s := range q.steps {
		messages = append(messages, s.MessageID)
	}
	require.Len(t, messages, len(phones), "one first lesson a rep")
	return res.Enrollments, messages
}

// LessonLinks lists an organisation's links and no other's; SendCounts
// follows a send from scheduled to recorded; DeleteQueuedJobs deletes the
// organisation's jobs of the kinds named and leaves the rest.
func TestOperationsOnOrgSends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "other", Name: "Other"})
	require.NoError(t, err)
	enrolled, messages := enrollForOperations(t, b, b.org.ID, "+14155550100", "+14155550101", "+14155550102")
	otherEnrolled, otherMessages := enrollForOperations(t, b, other.ID, "+14155550200")

	var firstAssignments []int64
	for _, e := range enrolled {
		as, err := b.store.Assignments(ctx, b.org.ID, e.ID)
		require.NoError(t, err)
		firstAssignments = append(firstAssignments, as[0].ID)
	}
	links, err := b.store.LessonLinks(ctx, b.org.ID)
	require.NoError(t, err)
	var linked []int64
	for _, l := range links {
		require.True(t, lessons.ValidLinkToken(l.Token), "token %q", l.Token)
		linked = append(linked, l.AssignmentID)
	}
	require.ElementsMatch(t, firstAssignments, linked, "a link for each rep's first lesson")
	require.IsIncreasing(t, linked, "in assignment order")
	otherLinks, err := b.store.LessonLinks(ctx, other.ID)
	require.NoError(t, err)
	require.Len(t, otherLinks, 1)

	counts, err := b.store.SendCounts(ctx, b.org.ID)
	require.NoError(t, err)
	require.Equal(t, lessons.SendCounts{Scheduled: 3, Recorded: 0}, counts)
	require.NoError(t, b.store.InTx(ctx, func(tx pgx.Tx) error {
		_, _, err := b.store.MarkAcceptedMany(ctx, tx, []lessons.Accepted{{ID: messages[0], SID: "SM00000000000000000000000000000001"}})
		return err
	}))
	// The accepted lesson is recorded, and its rep's next lesson scheduled.
	counts, err = b.store.SendCounts(ctx, b.org.ID)
	require.NoError(t, err)
	require.Equal(t, lessons.SendCounts{Scheduled: 3, Recorded: 1}, counts)
	counts, err = b.store.SendCounts(ctx, other.ID)
	require.NoError(t, err)
	require.Equal(t, lessons.SendCounts{Scheduled: 1, Recorded: 0}, counts)

	// Jobs as the scheduler queues them: kind and the id in the args.
	type job struct {
		kind string
		key  string
		id   int64
	}
	var jobs []job
	for _, id := range messages {
		jobs = append(jobs, job{"send_sms", "message_id", id})
	}
	for _, e := range enrolled {
		jobs = append(jobs, job{"remind_due", "enrollment_id", e.ID})
	}
	jobs = append(jobs,
		job{"nudge", "assignment_id", firstAssignments[0]},
		// Left: a kind not named, and the other organisation's jobs.
		job{"process_reply", "message_id", messages[1]},
		job{"send_sms", "message_id", otherMessages[0]},
		job{"remind_due", "enrollment_id", otherEnrolled[0].ID},
	)
	pool := b.store.Pool()
	for _, j := range jobs {
		_, err := pool.Exec(ctx, `INSERT INTO river_job (kind, args) VALUES ($1, $2)`, j.kind, map[string]int64{j.key: j.id})
		require.NoError(t, err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO river_job (kind, args) VALUES ('ship_events', '{}')`)
	require.NoError(t, err)

	kinds := lessons.JobKinds{Message: []string{"send_sms"}, Assignment: []string{"nudge"}, Enrollment: []string{"remind_due"}}
	deleted, err := b.store.DeleteQueuedJobs(ctx, b.org.ID, kinds)
	require.NoError(t, err)
	require.EqualValues(t, 3+3+1, deleted, "three sends, three reminders, one nudge")
	rows, err := pool.Query(ctx, `SELECT kind FROM river_job ORDER BY id`)
	require.NoError(t, err)
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"process_reply", "send_sms", "remind_due", "ship_events"}, left)

	deleted, err = b.store.DeleteQueuedJobs(ctx, b.org.ID, kinds)
	require.NoError(t, err)
	require.Zero(t, deleted, "nothing of the organisation's left to delete")
}
