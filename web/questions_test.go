package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/tracking"
)

// The question report shows each question beside its text, with the most
// chosen wrong answer and the flags, over the scope's reps; another
// organisation's course is a 404.
func TestQuestionReport(t *testing.T) {
	t.Parallel()
	b := setupDashboard(t)
	trainer := sessionOf(t, b.testBundle, newUser(t, b.testBundle, b.org.ID, lessons.RoleTrainer, "tina@acme.test", "correct horse 5"))
	courseID, _ := importCourse(t, b.testBundle, trainer, []byte(remedialCourse))
	_, versions, err := b.store.CourseVersions(t.Context(), b.org.ID, courseID)
	require.NoError(t, err)
	var quiz lessons.Lesson
	for _, l := range versions[0].Spec.Lessons {
		if l.Key == "quiz" {
			quiz = l
		}
	}
	// Who approves 8%? (right: B). Ana (North) right; Ben (North), Lola
	// (North) and Leo (South) chose A.
	var events []tracking.Event
	for rep, choice := range map[int64]int{101: 1, 102: 0, 103: 0, 106: 0} {
		v := 0.0
		if choice == 1 {
			v = 1
		}
		events = append(events, tracking.Event{OrgID: b.org.ID, RepID: rep, Key: fmt.Sprintf("grade/%d/0/1", rep), Kind: tracking.KindGraded,
			OccurredAt: b.now.Add(-time.Hour), CourseID: courseID, EnrollmentID: rep * 10, AssignmentID: rep, LessonID: quiz.ID, Value: v,
			Detail: fmt.Sprintf(`{"question":0,"choice":%d,"purpose":"question"}`, choice)})
	}
	b.write(t, events...)

	row := func(session string) map[string]string {
		t.Helper()
		res := b.get("/reports/questions?course="+itoa(courseID), session)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		q := document(t, res).Find(`[data-testid="question"]`)
		require.Equal(t, 1, q.Length())
		out := map[string]string{"text": q.Find("th").Text()}
		for _, id := range []string{"answered", "right", "wrong", "discrimination", "flags"} {
			out[id] = q.Find(`[data-testid="` + id + `"]`).Text()
		}
		return out
	}
	got := row(trainer)
	require.Contains(t, got["text"], "Who approves 8%?")
	require.Contains(t, got["text"], "Right: B) Your lead")
	require.Equal(t, "4", got["answered"])
	require.Equal(t, "25%", got["right"])
	require.Equal(t, "A) You (75%)", got["wrong"])
	require.Contains(t, got["discrimination"], "too few answers")
	require.Contains(t, got["flags"], "Most reps miss it")

	north := row(b.manager)
	require.Equal(t, "3", north["answered"], "a manager counts their teams' reps")
	require.Equal(t, "33%", north["right"])

	csvRes := b.get("/reports/questions.csv?course="+itoa(courseID), b.admin)
	require.Equal(t, http.StatusOK, csvRes.status, "%s", csvRes.body)
	require.Contains(t, string(csvRes.body), "version,lesson,question,prompt,answered,right_first_time,right_percent,"+
		"most_chosen_wrong,most_chosen_wrong_percent,discrimination,most_miss,not_discriminating\r\n")
	require.Contains(t, string(csvRes.body), "1,Check,1,Who approves 8%?,4,1,25,A) You,75,,true,false\r\n")
	require.Equal(t, http.StatusNotFound, b.get("/reports/questions.csv?course="+itoa(courseID), b.otherAdmin).status)
	require.Equal(t, http.StatusNotFound, b.get("/reports/questions?course="+itoa(courseID), b.otherAdmin).status)
	require.Equal(t, http.StatusBadRequest, b.get("/reports/questions?course=x", b.admin).status)
}
