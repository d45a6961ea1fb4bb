package lessons_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
)

// factsOf decodes the newest facts of each kind waiting in the outbox, by key.
func factsOf(t *testing.T, b testBundle) (map[string]tracking.RepFacts, map[string]tracking.EnrollmentFacts) {
	t.Helper()
	pending, err := tracking.Pending(context.Background(), b.store.Pool(), b.org.ID)
	require.NoError(t, err)
	reps, enrollments := map[string]tracking.RepFacts{}, map[string]tracking.EnrollmentFacts{}
	for _, e := range pending {
		switch e.Kind {
		case tracking.KindRepChanged:
			var f tracking.RepFacts
			require.NoError(t, json.Unmarshal([]byte(e.Detail), &f), e.Detail)
			f.TeamID, f.Version = int64(e.Value), e.Version
			require.Greater(t, f.Version, reps[e.Key].Version, "a later change has a higher version")
			reps[e.Key] = f
		case tracking.KindEnrollmentChanged:
			var f tracking.EnrollmentFacts
			require.NoError(t, json.Unmarshal([]byte(e.Detail), &f), e.Detail)
			f.Version = e.Version
			require.Greater(t, f.Version, enrollments[e.Key].Version)
			enrollments[e.Key] = f
		}
	}
	return reps, enrollments
}

// TestFactsFollowChanges: each change of a rep or an enrollment writes its
// facts, as committed, to the outbox with it.
func TestFactsFollowChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	_, err := b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{
		{Name: "Ann Lee", Phone: "+15551230001", Email: "ann@acme.test", TimeZone: "America/Chicago", Team: "North"},
	})
	require.NoError(t, err)
	ann, err := b.store.RepByPhone(ctx, b.org.ID, "+15551230001")
	require.NoError(t, err)
	key := tracking.RepKey(ann.ID)
	reps, _ := factsOf(t, b)
	require.Equal(t, tracking.RepFacts{TeamID: ann.TeamID, Team: "North", Status: "active", Name: "Ann Lee", Phone: "+15551230001",
		Email: "ann@acme.test", TimeZone: "America/Chicago", Version: reps[key].Version}, reps[key])

	v, err := b.store.SaveCourse(ctx, b.org.ID, testSpec("discounts"), true)
	require.NoError(t, err)
	res, err := b.store.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: v.CourseID, RepIDs: []int64{ann.ID}})
	require.NoError(t, err)
	_, enrollments := factsOf(t, b)
	e := enrollments[tracking.EnrollmentKey(res.Enrollments[0].ID)]
	require.Equal(t, tracking.EnrollmentFacts{CourseVersionID: v.ID, CourseTitle: "Discount policy", Status: "active",
		EnrolledAt: b.now, DueOn: "2026-03-16", Lessons: 3, Segments: 7, Version: e.Version}, e, "95 s of video: 7 segments")

	_, err = b.store.SetOptedOut(ctx, b.org.ID, ann.ID, true)
	require.NoError(t, err)
	reps, _ = factsOf(t, b)
	require.True(t, reps[key].OptedOut)

	_, err = b.store.RemoveRep(ctx, b.org.ID, ann.ID)
	require.NoError(t, err)
	reps, _ = factsOf(t, b)
	require.Equal(t, "removed", reps[key].Status)
	require.True(t, reps[key].OptedOut)
}
