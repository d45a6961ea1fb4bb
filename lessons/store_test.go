package lessons_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/migrations/dbtest"
)

type testBundle struct {
	store *lessons.Store
	org   lessons.Org
	now   time.Time
}

func setup(t *testing.T) testBundle {
	t.Helper()
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	store := lessons.NewStore(dbtest.Postgres(t), lessons.StoreConfig{PasswordCost: bcrypt.MinCost,
		Now: func() time.Time { return now }})
	org, err := store.CreateOrg(context.Background(), lessons.Org{Slug: "acme", Name: "Acme Sales"})
	require.NoError(t, err)
	return testBundle{store: store, org: org, now: now}
}

// queued returns a store on the bundle's database and clock that hands the
// work its writes cause to q, as the scheduler's queue would take it; the
// bundle's own store queues nothing.
func (b testBundle) queued(q lessons.Queue) *lessons.Store {
	return lessons.NewStore(b.store.Pool(), lessons.StoreConfig{Queue: q, PasswordCost: bcrypt.MinCost, Now: b.store.Now})
}

// at returns a store on the bundle's database whose clock reads now: the
// bundle's store as it will be then.
func (b testBundle) at(now time.Time) *lessons.Store {
	return lessons.NewStore(b.store.Pool(), lessons.StoreConfig{PasswordCost: bcrypt.MinCost, Now: func() time.Time { return now }})
}

// testQueue records what a store queues; with err set it fails, as a queue
// whose database is down.
type testQueue struct {
	mu        sync.Mutex
	steps     []lessons.Step
	reminders []lessons.Reminder
	err       error
}

func (q *testQueue) QueueSteps(_ context.Context, _ pgx.Tx, steps []lessons.Step) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.steps = append(q.steps, steps...)
	return q.err
}

func (q *testQueue) QueueReminders(_ context.Context, _ pgx.Tx, rs []lessons.Reminder) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reminders = append(q.reminders, rs...)
	return q.err
}

func testSpec(slug string) lessons.CourseSpec {
	return lessons.CourseSpec{
		Slug: slug, Title: "Discount policy", PassMark: 70, DueDays: 14,
		Cadence:    lessons.Cadence{Weekdays: []time.Weekday{time.Monday, time.Wednesday, time.Friday}, Times: []lessons.ClockTime{lessons.NewClockTime(9, 0)}},
		SendWindow: lessons.DefaultSendWindow(),
		Lessons: []lessons.Lesson{
			{Key: "intro", Kind: lessons.KindText, Title: "Welcome", Body: "Discounts protect margin."},
			{Key: "video", Kind: lessons.KindVideo, Title: "Watch", VideoURL: "/media/demo.mp4", VideoSeconds: 95},
			{Key: "quiz", Kind: lessons.KindQuiz, Title: "Check", Questions: []lessons.Question{
				{Prompt: "Which discount needs approval?", Choices: []string{"5%", "10%", "20%"}, Correct: 2, Explanation: "Over 10% needs sign-off."},
				{Prompt: "Who approves?", Choices: []string{"You", "Your manager"}, Correct: 1},
			}},
		},
	}
}

func requireCode(t *testing.T, err error, code errs.Code) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, errs.CodeOf(err), "error: %v", err)
}

func TestOrgAndUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	_, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "acme", Name: "Another"})
	requireCode(t, err, errs.Conflict)
	_, err = b.store.CreateOrg(ctx, lessons.Org{Slug: "Not A Slug", Name: ""})
	requireCode(t, err, errs.Invalid)
	require.Len(t, errs.As(err).Details, 2)

	got, err := b.store.OrgBySlug(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, b.org.ID, got.ID)
	require.NotEmpty(t, got.HelpText)

	u, password, err := b.store.CreateUser(ctx, b.org.ID, lessons.NewUser{Name: "Mia Manager", Email: "Mia@Example.com", Role: lessons.RoleManager, Teams: []string{"North"}})
	require.NoError(t, err)
	require.Equal(t, "mia@example.com", u.Email)
	require.GreaterOrEqual(t, len(password), 12)

	authed, err := b.store.Authenticate(ctx, "MIA@example.com", password)
	require.NoError(t, err)
	require.Equal(t, u.ID, authed.ID)
	require.True(t, authed.MustChangePassword)
	_, err = b.store.Authenticate(ctx, "mia@example.com", "wrong")
	requireCode(t, err, errs.Unauthorized)
	_, err = b.store.Authenticate(ctx, "nobody@example.com", password)
	requireCode(t, err, errs.Unauthorized)

	_, _, err = b.store.CreateUser(ctx, b.org.ID, lessons.NewUser{Name: "Dup", Email: "mia@example.com", Role: lessons.RoleAdmin})
	requireCode(t, err, errs.Conflict)
	_, _, err = b.store.CreateUser(ctx, b.org.ID, lessons.NewUser{Name: "X", Email: "not-an-email", Role: "boss"})
	requireCode(t, err, errs.Invalid)

	teams, err := b.store.Teams(ctx, b.org.ID)
	require.NoError(t, err)
	require.Len(t, teams, 1)
	require.Equal(t, "North", teams[0].Name)
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	key, secret, err := b.store.CreateAPIKey(ctx, b.org.ID, "ci")
	require.NoError(t, err)
	require.Contains(t, secret, key.Prefix)

	orgID, err := b.store.OrgForAPIKey(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, b.org.ID, orgID)

	for _, bad := range []string{"", "mk_nope", secret + "x", "Bearer " + secret} {
		_, err := b.store.OrgForAPIKey(ctx, bad)
		requireCode(t, err, errs.Unauthorized)
	}
	var stored int
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE hash = convert_to($1, 'UTF8')`, secret).Scan(&stored))
	require.Zero(t, stored, "the secret itself is never stored")
}

func TestImportReps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	reps := []lessons.RepInput{
		{Name: "Ana", Phone: "+14155550100", Team: "North", TimeZone: "America/Los_Angeles"},
		{Name: "Ben", Phone: "+442079460000", Email: "ben@example.com", Team: "South", TimeZone: "Europe/London"},
		{Name: "Cy", Phone: "+12125550100", TimeZone: "America/New_York"},
	}
	res, err := b.store.ImportReps(ctx, b.org.ID, reps)
	require.NoError(t, err)
	require.Equal(t, lessons.ImportResult{Created: 3, TeamsCreated: 2}, res)

	// Upsert by phone: Ana moves team; a new rep joins.
	reps[0].Team, reps[0].Name = "South", "Ana B."
	res, err = b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{reps[0], {Name: "Dee", Phone: "+13125550100", TimeZone: "America/Chicago"}})
	require.NoError(t, err)
	require.Equal(t, lessons.ImportResult{Created: 1, Updated: 1}, res)

	list, err := b.store.Reps(ctx, b.org.ID, lessons.RepFilter{})
	require.NoError(t, err)
	require.Len(t, list, 4)
	require.Equal(t, "Ana B.", list[0].Name)
	require.Equal(t, "South", list[0].Team)

	// All or nothing: one bad row (a time zone the database refuses) stores nothing.
	_, err = b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{{Name: "Eve", Phone: "+13125550101", TimeZone: "America/Chicago"}, {Name: "Bad", Phone: "555", TimeZone: "UTC"}})
	requireCode(t, err, errs.Invalid)
	list, err = b.store.Reps(ctx, b.org.ID, lessons.RepFilter{})
	require.NoError(t, err)
	require.Len(t, list, 4)

	removed, err := b.store.RemoveRep(ctx, b.org.ID, list[1].ID)
	require.NoError(t, err)
	require.Equal(t, lessons.RepRemoved, removed.Status)
	active, err := b.store.Reps(ctx, b.org.ID, lessons.RepFilter{Status: lessons.RepActive})
	require.NoError(t, err)
	require.Len(t, active, 3)

	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "other", Name: "Other"})
	require.NoError(t, err)
	_, err = b.store.Rep(ctx, other.ID, list[0].ID)
	requireCode(t, err, errs.NotFound)
	_, err = b.store.RemoveRep(ctx, other.ID, list[0].ID)
	requireCode(t, err, errs.NotFound)

	opted, err := b.store.SetOptedOut(ctx, b.org.ID, list[0].ID, true)
	require.NoError(t, err)
	require.NotNil(t, opted.OptedOutAt)
	back, err := b.store.SetOptedOut(ctx, b.org.ID, list[0].ID, false)
	require.NoError(t, err)
	require.Nil(t, back.OptedOutAt)
}

func TestCourseVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	draft, err := b.store.SaveCourse(ctx, b.org.ID, testSpec("discounts"), false)
	require.NoError(t, err)
	require.Equal(t, 1, draft.Number)
	require.Equal(t, lessons.VersionDraft, draft.Status)

	// Saving again replaces the draft in place.
	spec := testSpec("discounts")
	spec.Lessons = spec.Lessons[:2]
	draft2, err := b.store.SaveCourse(ctx, b.org.ID, spec, false)
	require.NoError(t, err)
	require.Equal(t, draft.ID, draft2.ID)
	require.Len(t, draft2.Spec.Lessons, 2)

	pub, err := b.store.PublishCourse(ctx, b.org.ID, draft.CourseID)
	require.NoError(t, err)
	require.Equal(t, lessons.VersionPublished, pub.Status)
	_, err = b.store.PublishCourse(ctx, b.org.ID, draft.CourseID)
	requireCode(t, err, errs.Conflict)

	// A published version is immutable, even to direct SQL.
	_, err = b.store.Pool().Exec(ctx, `UPDATE course_lessons SET title = 'changed' WHERE course_version_id = $1`, pub.ID)
	require.ErrorContains(t, err, "is published and cannot change")
	_, err = b.store.Pool().Exec(ctx, `UPDATE quiz_questions SET correct = 0`)
	require.NoError(t, err, "no questions in v1 after the trim")

	// The next save starts version 2 and leaves version 1 as it was.
	v2, err := b.store.SaveCourse(ctx, b.org.ID, testSpec("discounts"), true)
	require.NoError(t, err)
	require.Equal(t, 2, v2.Number)
	require.Len(t, v2.Spec.Lessons, 3)
	require.Equal(t, []string{"5%", "10%", "20%"}, v2.Spec.Lessons[2].Questions[0].Choices)
	require.Equal(t, 2, v2.Spec.Lessons[2].Questions[0].Correct)
	require.Equal(t, []time.Weekday{time.Monday, time.Wednesday, time.Friday}, v2.Spec.Cadence.Weekdays)
	require.Equal(t, lessons.DefaultSendWindow(), v2.Spec.SendWindow)
	_, err = b.store.Pool().Exec(ctx, `UPDATE quiz_questions SET correct = 0`)
	require.ErrorContains(t, err, "is published and cannot change")

	_, versions, err := b.store.CourseVersions(ctx, b.org.ID, draft.CourseID)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	require.Len(t, versions[1].Spec.Lessons, 2)

	list, err := b.store.Courses(ctx, b.org.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, 2, list[0].PublishedVersion)
	require.Equal(t, 3, list[0].LessonCount)
}

func TestCourseCompletionSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	// A spec built in Go without the settings is saved with their defaults.
	v, err := b.store.SaveCourse(ctx, b.org.ID, testSpec("discounts"), false)
	require.NoError(t, err)
	require.Equal(t, lessons.TextCompleteOnOpen, v.Spec.TextCompletion)
	require.Equal(t, lessons.DefaultVideoCompletePercent, v.Spec.VideoCompletePercent)

	// Saving the draft again with settings replaces them, and they read back.
	spec := testSpec("discounts")
	spec.TextCompletion, spec.VideoCompletePercent = lessons.TextCompleteOnDone, 75
	v, err = b.store.SaveCourse(ctx, b.org.ID, spec, true)
	require.NoError(t, err)
	require.Equal(t, lessons.TextCompleteOnDone, v.Spec.TextCompletion)
	require.Equal(t, 75, v.Spec.VideoCompletePercent)
	back, err := b.store.CourseVersion(ctx, b.org.ID, v.ID)
	require.NoError(t, err)
	require.Equal(t, v.Spec, back.Spec)

	// A new version starts from its own spec's settings.
	spec.TextCompletion, spec.VideoCompletePercent = "", 0
	v2, err := b.store.SaveCourse(ctx, b.org.ID, spec, false)
	require.NoError(t, err)
	require.Equal(t, 2, v2.Number)
	require.Equal(t, lessons.TextCompleteOnOpen, v2.Spec.TextCompletion)
	require.Equal(t, 90, v2.Spec.VideoCompletePercent)

	// The database refuses what the course file would.
	for _, tt := range []struct {
		text    string
		percent int
		field   string
	}{
		{"clicked", 90, "text_completion"},
		{lessons.TextCompleteOnOpen, 101, "video_complete_percent"},
	} {
		spec.TextCompletion, spec.VideoCompletePercent = tt.text, tt.percent
		_, err = b.store.SaveCourse(ctx, b.org.ID, spec, false)
		e := errs.As(err)
		require.NotNil(t, e, "%s: %v", tt.field, err)
		require.Equal(t, errs.Invalid, e.Code, tt.field)
		require.Len(t, e.Details, 1, tt.field)
		require.Equal(t, tt.field, e.Details[0].Path)
	}
	_, versions, err := b.store.CourseVersions(ctx, b.org.ID, v2.CourseID)
	require.NoError(t, err)
	require.Len(t, versions, 2, "nothing stored")
}

func TestEnroll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	_, err := b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{
		{Name: "Ana", Phone: "+14155550100", Team: "North", TimeZone: "America/Los_Angeles"},
		{Name: "Ben", Phone: "+14155550101", Team: "North", TimeZone: "America/Los_Angeles"},
		{Name: "Cy", Phone: "+14155550102", Team: "South", TimeZone: "America/New_York"},
	})
	require.NoError(t, err)
	reps, err := b.store.Reps(ctx, b.org.ID, lessons.RepFilter{})
	require.NoError(t, err)
	teams, err := b.store.Teams(ctx, b.org.ID)
	require.NoError(t, err)

	draft, err := b.store.SaveCourse(ctx, b.org.ID, testSpec("discounts"), false)
	require.NoError(t, err)
	_, err = b.store.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: draft.CourseID, RepIDs: []int64{reps[0].ID}})
	requireCode(t, err, errs.Conflict)
	_, err = b.store.PublishCourse(ctx, b.org.ID, draft.CourseID)
	require.NoError(t, err)

	// With a queue, enrolling schedules each first lesson and queues its
	// send and the due-date reminders, in the enrollment's transaction.
	q := &testQueue{}
	queued := b.queued(q)
	res, err := queued.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: draft.CourseID, TeamIDs: []int64{teams[0].ID}})
	require.NoError(t, err)
	require.Len(t, res.Enrollments, 2)
	require.Equal(t, time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC), res.Enrollments[0].DueOn)
	require.Len(t, q.steps, 2, "one first lesson a rep")
	var reminded []int64
	for _, r := range q.reminders {
		reminded = append(reminded, r.EnrollmentID)
	}
	e0, e1 := res.Enrollments[0].ID, res.Enrollments[1].ID
	require.ElementsMatch(t, []int64{e0, e0, e0, e1, e1, e1}, reminded, "3 and 1 days before the due date, and overdue")

	as, err := b.store.Assignments(ctx, b.org.ID, res.Enrollments[0].ID)
	require.NoError(t, err)
	require.Len(t, as, 3)
	require.Equal(t, lessons.AssignmentScheduled, as[0].Status)
	require.Equal(t, lessons.AssignmentPending, as[1].Status)

	// Already enrolled reps are skipped; the rest are enrolled.
	res, err = queued.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: draft.CourseID, RepIDs: []int64{reps[0].ID, reps[2].ID}})
	require.NoError(t, err)
	require.Len(t, res.Enrollments, 1)
	require.Equal(t, 1, res.AlreadyEnrolled)
	require.Len(t, q.steps, 3)

	// A failing queue rolls the whole enrollment back.
	q.err = errors.New("queue down")
	_, err = b.store.RemoveRep(ctx, b.org.ID, reps[2].ID)
	require.NoError(t, err)
	v2, err := b.store.SaveCourse(ctx, b.org.ID, testSpec("discounts"), true)
	require.NoError(t, err)
	_, err = queued.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: v2.CourseID, RepIDs: []int64{reps[0].ID}})
	require.ErrorContains(t, err, "queue down")
	all, err := b.store.Enrollments(ctx, b.org.ID, lessons.EnrollmentFilter{})
	require.NoError(t, err)
	require.Len(t, all, 3)

	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "other", Name: "Other"})
	require.NoError(t, err)
	tests := []struct {
		name string
		org  int64
		req  lessons.EnrollRequest
		code errs.Code
	}{
		{"removed rep", b.org.ID, lessons.EnrollRequest{CourseID: v2.CourseID, RepIDs: []int64{reps[2].ID}}, errs.Invalid},
		{"unknown rep", b.org.ID, lessons.EnrollRequest{CourseID: v2.CourseID, RepIDs: []int64{999999}}, errs.NotFound},
		{"unknown team", b.org.ID, lessons.EnrollRequest{CourseID: v2.CourseID, TeamIDs: []int64{999999}}, errs.NotFound},
		{"nobody", b.org.ID, lessons.EnrollRequest{CourseID: v2.CourseID}, errs.Invalid},
		{"past due", b.org.ID, lessons.EnrollRequest{CourseID: v2.CourseID, RepIDs: []int64{reps[0].ID}, DueOn: b.now.AddDate(0, 0, -1)}, errs.Invalid},
		{"other org's course", other.ID, lessons.EnrollRequest{CourseID: v2.CourseID, RepIDs: []int64{reps[0].ID}}, errs.NotFound},
	}
	for _, tt := range tests {
		_, err := b.store.Enroll(ctx, tt.org, tt.req)
		requireCode(t, err, tt.code)
	}
}

// A team name as long as a rep file allows is stored; what the database
// refuses is named by field, never in the driver's words.
func TestDatabaseChecksNamed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	long := strings.Repeat("é", 150)
	_, err := b.store.CreateTeam(ctx, b.org.ID, long)
	require.NoError(t, err)
	_, err = b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{{Name: "Pat", Phone: "+12125550101", Team: strings.Repeat("x", 200), TimeZone: "UTC"}})
	require.NoError(t, err, "the parser's limit is the database's")
	_, err = b.store.CreateTeam(ctx, b.org.ID, strings.Repeat("x", 201))
	requireCode(t, err, errs.Invalid)

	_, err = b.store.CreateOrg(ctx, lessons.Org{Slug: "globex", Name: "Globex", SMSFrom: "12"})
	requireCode(t, err, errs.Invalid)
	require.NotContains(t, err.Error(), "violates")
	e := errs.As(err)
	require.Len(t, e.Details, 1, "%v", err)
	require.Equal(t, "sms_from", e.Details[0].Path)
}
