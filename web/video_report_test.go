package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
)

// The video report shows each video lesson's figures over the viewer's
// scope. The course's 60-second video (4 segments) completes at 75%:
//
//	rep 101 (North) watched 0 1 2: 75%, complete
//	rep 102 (North) watched 0:     25%
//	rep 104 (South) watched all:  100%, complete
//
// so the organisation sees 3 reps sent it, segments watched by 3 2 2 1,
// median 75%, 2 complete; North's manager 2 reps, 2 1 1 0, median 50%, 1.
func TestVideoReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupDashboard(t)
	spec := lessonCourse()
	spec.Lessons[1].VideoSeconds, spec.VideoCompletePercent = 60, 75
	v, err := b.store.SaveCourse(ctx, b.org.ID, spec, true)
	require.NoError(t, err)
	video := v.Spec.Lessons[1]
	require.Equal(t, lessons.KindVideo, video.Kind)
	ev := func(rep int64, kind, key string, value float64) tracking.Event {
		return tracking.Event{OrgID: b.org.ID, RepID: rep, Key: key, Kind: kind, OccurredAt: b.now, CourseID: v.CourseID,
			EnrollmentID: rep * 10, AssignmentID: 900 + rep, LessonID: video.ID, Value: value}
	}
	for rep, watched := range map[int64]int{101: 3, 102: 1, 104: 4} {
		events := []tracking.Event{ev(rep, tracking.KindMessageSent, fmt.Sprintf("msg/%d/message_sent", 900+rep), 0)}
		for s := range watched {
			events = append(events, ev(rep, tracking.KindSegmentWatched, fmt.Sprintf("seg/%d/%d", 900+rep, s), float64(s)))
		}
		b.write(t, events...)
	}
	path := fmt.Sprintf("/reports/videos?course=%d", v.CourseID)

	type figures struct {
		sent, median, completed string
		watched                 []string
	}
	read := func(session, path string) figures {
		t.Helper()
		res := b.get(path, session)
		require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
		doc := document(t, res)
		lesson := doc.Find(`[data-testid="video-lesson"]`)
		require.Equal(t, 1, lesson.Length())
		require.Equal(t, strconv.FormatInt(video.ID, 10), lesson.AttrOr("data-lesson", ""))
		require.Contains(t, lesson.Find("h2").Text(), "Holding the price")
		require.Equal(t, 4, lesson.Find(`[data-testid="video-chart"] rect.bar title`).Length(), "each bar says its figures")
		require.Contains(t, lesson.Find(`[data-testid="video-chart"]`).Text(), "75% of the video: completed", "the threshold is marked")
		f := figures{sent: lesson.Find(`[data-testid="video-sent"]`).AttrOr("data-value", ""),
			median:    lesson.Find(`[data-testid="video-median"]`).AttrOr("data-value", ""),
			completed: lesson.Find(`[data-testid="video-completed"]`).AttrOr("data-value", "")}
		lesson.Find(`[data-testid="video-segment"]`).Each(func(_ int, s *goquery.Selection) {
			f.watched = append(f.watched, s.AttrOr("data-watched", ""))
		})
		return f
	}
	org := figures{"3", "75%", "2", []string{"3", "2", "2", "1"}}
	require.Equal(t, org, read(b.admin, path))
	require.Equal(t, org, read(b.trainer, path))
	require.Equal(t, figures{"2", "50%", "1", []string{"2", "1", "1", "0"}}, read(b.manager, path), "North's reps only")
	require.Equal(t, org, read(b.admin, path+fmt.Sprintf("&lesson=%d", video.ID)))

	// The first bar's title says its figures in words.
	doc := document(t, b.get(path, b.admin))
	require.Equal(t, "0:00 to 0:15: 3 of 3 reps watched it (100%)", doc.Find(`rect.bar[data-segment="0"] title`).Text())
	// The navigation links the report, and the report the courses.
	doc = document(t, b.get("/dashboard", b.manager))
	require.Equal(t, "/reports/videos", doc.Find(`[data-testid="videos-link"]`).AttrOr("href", ""))
	doc = document(t, b.get("/reports/videos", b.manager))
	require.Equal(t, path, doc.Find(`[data-testid="video-courses"] a`).AttrOr("href", ""))

	for _, tc := range []struct {
		name, session, path string
		status              int
		says                string
	}{
		{"another organisation's admin", b.otherAdmin, path, http.StatusNotFound, ""},
		{"no such course", b.admin, "/reports/videos?course=999999", http.StatusNotFound, ""},
		{"a lesson not of the course's videos", b.admin, path + fmt.Sprintf("&lesson=%d", v.Spec.Lessons[0].ID), http.StatusNotFound, ""},
		{"a course that is no id", b.admin, "/reports/videos?course=abc", http.StatusBadRequest, `The parameter "course" is "abc"`},
		{"a lesson that is no id", b.admin, path + "&lesson=-1", http.StatusBadRequest, `The parameter "lesson" is "-1"`},
		{"signed out", "", path, http.StatusSeeOther, ""},
	} {
		res := b.get(tc.path, tc.session)
		require.Equal(t, tc.status, res.status, tc.name)
		if tc.says != "" {
			require.Contains(t, document(t, res).Find(`[data-testid="problem"]`).Text(), tc.says, tc.name)
		}
	}
}
