package lessons_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

func TestPrice(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in     string
		micros int64
		shown  string
		bad    bool
	}{
		{in: "0.0079", micros: 7900, shown: "USD 0.0079"},
		{in: "1", micros: 1_000_000, shown: "USD 1.00"},
		{in: " 2.5 ", micros: 2_500_000, shown: "USD 2.50"},
		{in: ".05", micros: 50_000, shown: "USD 0.05"},
		{in: "0.000001", micros: 1, shown: "USD 0.000001"},
		{in: "0", micros: 0, shown: "USD 0.00"},
		{in: "0.0000001", bad: true},
		{in: "-1", bad: true},
		{in: "1,5", bad: true},
		{in: "", bad: true},
		{in: ".", bad: true},
		{in: "99999999", bad: true},
	} {
		got, err := lessons.ParsePriceMicros(tt.in)
		if tt.bad {
			require.Error(t, err, tt.in)
			require.Contains(t, err.Error(), "is not an amount")
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.micros, got, tt.in)
		require.Equal(t, tt.shown, lessons.Price{Micros: got, Currency: "USD"}.String())
	}
	require.Equal(t, "USD 0.79", lessons.Price{Micros: 7900, Currency: "USD"}.Times(100).String())
}

func TestAuthoring(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	// A new course starts as a checked draft with a welcome lesson.
	starter := lessons.StarterCourse("onboarding", "Onboarding")
	data, err := lessons.MarshalCourseFile(starter)
	require.NoError(t, err)
	_, err = lessons.ParseCourseFile(bytes.NewReader(data))
	require.NoError(t, err, "the starter course is a valid course file")
	v1, err := b.store.CreateCourse(ctx, b.org.ID, starter)
	require.NoError(t, err)
	require.Equal(t, lessons.VersionDraft, v1.Status)
	require.Equal(t, 1, v1.Number)
	_, err = b.store.CreateCourse(ctx, b.org.ID, lessons.StarterCourse("onboarding", "Other"))
	requireCode(t, err, errs.Conflict)

	// Edits replace the draft; publishing freezes it; the next edit is version 2.
	spec := testSpec("ignored")
	spec.Title = "Onboarding, renamed"
	d, err := b.store.SaveDraft(ctx, b.org.ID, v1.CourseID, spec)
	require.NoError(t, err)
	require.Equal(t, v1.ID, d.ID, "the same draft")
	require.Equal(t, "onboarding", d.Spec.Slug, "the slug stays")
	require.Len(t, d.Spec.Lessons, 3)
	err = b.store.DiscardDraft(ctx, b.org.ID, v1.CourseID)
	requireCode(t, err, errs.Conflict) // nothing published to go back to
	pub, err := b.store.PublishCourse(ctx, b.org.ID, v1.CourseID)
	require.NoError(t, err)
	require.Equal(t, lessons.VersionPublished, pub.Status)

	spec.Lessons = spec.Lessons[1:]
	spec.PassMark = 90
	d2, err := b.store.SaveDraft(ctx, b.org.ID, v1.CourseID, spec)
	require.NoError(t, err)
	require.Equal(t, 2, d2.Number)
	diff := lessons.DiffCourses(pub.Spec, d2.Spec)
	require.Equal(t, []lessons.SettingChange{{Field: "pass_mark", Old: "70", New: "90"}}, diff.Settings)
	require.Len(t, diff.Removed, 1)
	require.Equal(t, "intro", diff.Removed[0].Key)
	require.Empty(t, diff.Added)
	require.Empty(t, diff.Changed)
	require.NoError(t, b.store.DiscardDraft(ctx, b.org.ID, v1.CourseID))
	_, versions, err := b.store.CourseVersions(ctx, b.org.ID, v1.CourseID)
	require.NoError(t, err)
	require.Len(t, versions, 1, "the draft is gone, the published version stays")

	// Duplicate copies the content under a new slug, as a draft.
	dup, err := b.store.DuplicateCourse(ctx, b.org.ID, v1.CourseID, "onboarding-copy", "Onboarding (copy)")
	require.NoError(t, err)
	require.Equal(t, lessons.VersionDraft, dup.Status)
	require.Equal(t, "onboarding-copy", dup.Spec.Slug)
	require.Equal(t, len(pub.Spec.Lessons), len(dup.Spec.Lessons))
	require.NotEqual(t, pub.Spec.Lessons[0].ID, dup.Spec.Lessons[0].ID)

	// Archived: no edits, no enrollments; restored, both again.
	team, err := b.store.CreateTeam(ctx, b.org.ID, "North")
	require.NoError(t, err)
	require.NoError(t, b.store.ArchiveCourse(ctx, b.org.ID, v1.CourseID, true))
	_, err = b.store.SaveDraft(ctx, b.org.ID, v1.CourseID, spec)
	requireCode(t, err, errs.Conflict)
	_, err = b.store.Enroll(ctx, b.org.ID, lessons.EnrollRequest{CourseID: v1.CourseID, TeamIDs: []int64{team.ID}})
	requireCode(t, err, errs.Conflict)
	list, err := b.store.Courses(ctx, b.org.ID)
	require.NoError(t, err)
	for _, c := range list {
		require.Equal(t, c.ID == v1.CourseID, c.ArchivedAt != nil, c.Slug)
	}
	require.NoError(t, b.store.ArchiveCourse(ctx, b.org.ID, v1.CourseID, false))
	_, err = b.store.SaveDraft(ctx, b.org.ID, v1.CourseID, spec)
	require.NoError(t, err)

	// Another organisation's course is not found.
	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "rival", Name: "Rival"})
	require.NoError(t, err)
	_, err = b.store.SaveDraft(ctx, other.ID, v1.CourseID, spec)
	requireCode(t, err, errs.NotFound)
	requireCode(t, b.store.ArchiveCourse(ctx, other.ID, v1.CourseID, true), errs.NotFound)

	// The segment price.
	require.Equal(t, lessons.Price{Micros: 7900, Currency: "USD"}, b.org.SegmentPrice, "the default")
	require.NoError(t, b.store.SetSegmentPrice(ctx, b.org.ID, lessons.Price{Micros: 5000, Currency: "EUR"}))
	org, err := b.store.Org(ctx, b.org.ID)
	require.NoError(t, err)
	require.Equal(t, lessons.Price{Micros: 5000, Currency: "EUR"}, org.SegmentPrice)
	requireCode(t, b.store.SetSegmentPrice(ctx, b.org.ID, lessons.Price{Micros: -1, Currency: "eur"}), errs.Invalid)
}

func TestDiffCourses(t *testing.T) {
	t.Parallel()
	base := testSpec("s")
	tests := []struct {
		name  string
		edit  func(*lessons.CourseSpec)
		check func(*testing.T, lessons.CourseDiff)
	}{
		{"same", func(*lessons.CourseSpec) {}, func(t *testing.T, d lessons.CourseDiff) { require.True(t, d.Empty()) }},
		{"lesson added", func(s *lessons.CourseSpec) {
			s.Lessons = append(s.Lessons, lessons.Lesson{Key: "more", Kind: lessons.KindText, Title: "More", Body: "b"})
		}, func(t *testing.T, d lessons.CourseDiff) {
			require.Len(t, d.Added, 1)
			require.Equal(t, "more", d.Added[0].Key)
			require.False(t, d.Reordered)
		}},
		{"question changed", func(s *lessons.CourseSpec) {
			s.Lessons[2].Questions = append([]lessons.Question(nil), s.Lessons[2].Questions...)
			s.Lessons[2].Questions[0].Correct = 1
			s.Lessons[2].Title = "Quick check"
		}, func(t *testing.T, d lessons.CourseDiff) {
			require.Equal(t, []lessons.LessonChange{{Key: "quiz", Title: "Quick check", Fields: []string{"title", "questions"}}}, d.Changed)
		}},
		{"reordered", func(s *lessons.CourseSpec) {
			s.Lessons = []lessons.Lesson{s.Lessons[1], s.Lessons[0], s.Lessons[2]}
		}, func(t *testing.T, d lessons.CourseDiff) {
			require.True(t, d.Reordered)
			require.Empty(t, d.Changed)
		}},
		{"cadence and rules", func(s *lessons.CourseSpec) {
			s.Cadence = lessons.Cadence{EveryDays: 2, Times: []lessons.ClockTime{lessons.NewClockTime(10, 0)}}
			s.Rules.MaxRetakes = 1
		}, func(t *testing.T, d lessons.CourseDiff) {
			require.Len(t, d.Settings, 2)
			require.Equal(t, "cadence", d.Settings[0].Field)
			require.Equal(t, `{"days":["mon","wed","fri"],"times":["09:00"]}`, d.Settings[0].Old)
			require.Equal(t, `{"every_days":2,"times":["10:00"]}`, d.Settings[0].New)
			require.Equal(t, "rules", d.Settings[1].Field)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			draft := base
			draft.Lessons = append([]lessons.Lesson(nil), base.Lessons...)
			tt.edit(&draft)
			tt.check(t, lessons.DiffCourses(base, draft))
		})
	}
}
