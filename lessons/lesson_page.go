package lessons

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

// LinkTokenLength is the length of a lesson link token: 128 random bits in
// unpadded base64url.
const LinkTokenLength = 22

// ValidLinkToken reports whether token has the shape of a lesson link token,
// so that junk is refused without a query.
func ValidLinkToken(token string) bool {
	if len(token) != LinkTokenLength {
		return false
	}
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// LessonView is one lesson as the rep's lesson page shows it: the lesson, where
// it sits in the course, and how far the rep got with it.
type LessonView struct {
	Token        string
	AssignmentID int64
	RepID        int64
	OrgID        int64
	EnrollmentID int64
	CourseID     int64
	LessonID     int64
	RepName      string
	RepPhone     string // E.164: an answer given on the page is an SMS from it
	CourseTitle  string
	Lesson       Lesson
	Step, Steps  int // "step 2 of 5": the lesson's place on the rep's path, skipped lessons left out
	Status       AssignmentStatus

	// Text lessons: when they count as completed, TextCompleteOnOpen or
	// TextCompleteOnDone (the page then has a Done button).
	TextCompletion string

	// Video lessons: which segments were played (tracking.SegmentCount of
	// the video's length), where the player last was, and the share of
	// segments that completes the lesson (percent).
	Watched         []bool
	Position        float64
	CompletePercent int

	// Quiz lessons: the questions this assignment asks, in order, and
	// whether the Current one is the rep's open question, sent and not yet
	// answered, which a reply (or an answer on the page) answers now.
	Questions      []QuizStep
	AwaitingAnswer bool
}

// QuizStep is one question a quiz assignment asks, and whether it is answered.
type QuizStep struct {
	Index    int  // into Lesson.Questions
	Answered bool // a graded answer is recorded
	Current  bool // the first question not answered: the one a reply answers next
}

// WatchedPercent returns the share of the video's segments played.
func (v LessonView) WatchedPercent() int { return tracking.WatchedPercent(v.Watched) }

// ResumeAt returns where the video player starts: at the first segment not
// yet played, or at the beginning when every segment is.
func (v LessonView) ResumeAt() int {
	i := tracking.FirstUnwatched(v.Watched)
	if i < 0 {
		return 0
	}
	return i * tracking.SegmentSeconds
}

// Done reports whether the lesson needs nothing more from the rep.
func (v LessonView) Done() bool {
	return v.Status == AssignmentCompleted || v.Status == AssignmentSkipped
}

// errLinkNotFound is the one answer for every link that does not lead to a
// lesson, so that a visitor cannot tell a removed rep from a mistyped link.
func errLinkNotFound() error {
	return errs.Errorf(errs.NotFound, "This lesson link is not valid.")
}

// LessonByToken returns the lesson a link token leads to. It returns NotFound
// for a token that is malformed or unknown, and for one whose rep was removed
// or whose enrollment was cancelled.
func (s *Store) LessonByToken(ctx context.Context, token string) (LessonView, error) {
	if !ValidLinkToken(token) {
		return LessonView{}, errLinkNotFound()
	}
	var v LessonView
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		v, err = s.lessonView(ctx, tx, token, false)
		return err
	})
	if err != nil {
		return LessonView{}, err
	}
	return v, nil
}

// OpenLesson returns the lesson a link token leads to, as LessonByToken, and
// records that the rep opened it (lesson_opened, one key per assignment, so
// reports count repeated openings once). A text lesson is also completed, as
// CompleteTextLesson does, unless its course completes text lessons on the
// Done button. A video lesson's first opening starts its progress.
func (s *Store) OpenLesson(ctx context.Context, token string) (LessonView, error) {
	return s.changeLesson(ctx, token, func(tx pgx.Tx, v *LessonView, now time.Time) error {
		opened := v.event(tracking.KindLessonOpened, tracking.OpenKey(v.AssignmentID), now)
		opened.Detail = tracking.LessonDetail{Kind: string(v.Lesson.Kind)}.String()
		var events []tracking.Event
		switch v.Lesson.Kind {
		case KindText:
			if !openStatus(v.Status) {
				break
			}
			events = append(events, opened)
			if v.TextCompletion == TextCompleteOnDone {
				break
			}
			done, err := s.completeText(ctx, tx, v, now)
			if err != nil {
				return err
			}
			events = append(events, done...)
		case KindVideo:
			tag, err := tx.Exec(ctx, `INSERT INTO video_progress (assignment_id, watched, position, updated_at)
				VALUES ($1, $2, 0, $3) ON CONFLICT (assignment_id) DO NOTHING`, v.AssignmentID, watchedBits(v.Watched), now)
			if err != nil {
				return fmt.Errorf("start video progress: %w", err)
			}
			if tag.RowsAffected() == 1 {
				events = append(events, opened)
			}
		default:
			events = append(events, opened)
		}
		if len(events) > 0 && events[0].Kind == tracking.KindLessonOpened {
			// Kept for a rebuild of the reports (morsel rebuild-analytics):
			// the event's time, as the newest of its key says.
			if _, err := tx.Exec(ctx, `UPDATE assignments SET opened_at = $2 WHERE id = $1`, v.AssignmentID, now); err != nil {
				return fmt.Errorf("record lesson opened: %w", err)
			}
		}
		return tracking.Append(ctx, tx, events...)
	})
}

// CompleteTextLesson completes the text lesson a link token leads to, and its
// enrollment when nothing is left, with a lesson_completed event: what the
// lesson page's Done button does. A lesson already completed or skipped stays
// as it is. It returns NotFound as LessonByToken does, and Invalid for a lesson
// that is not a text.
func (s *Store) CompleteTextLesson(ctx context.Context, token string) (LessonView, error) {
	return s.changeLesson(ctx, token, func(tx pgx.Tx, v *LessonView, now time.Time) error {
		if v.Lesson.Kind != KindText {
			return errs.Errorf(errs.Invalid, "Only a text lesson is completed with its Done button.")
		}
		events, err := s.completeText(ctx, tx, v, now)
		if err != nil {
			return err
		}
		return tracking.Append(ctx, tx, events...)
	})
}

// changeLesson runs change on the lesson a link token leads to, locked, in
// one transaction on one reading of the clock, and returns the lesson as
// change left it; NotFound as LessonByToken.
func (s *Store) changeLesson(ctx context.Context, token string, change func(tx pgx.Tx, v *LessonView, now time.Time) error) (LessonView, error) {
	if !ValidLinkToken(token) {
		return LessonView{}, errLinkNotFound()
	}
	var v LessonView
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var err error
		if v, err = s.lessonView(ctx, tx, token, true); err != nil {
			return err
		}
		return change(tx, &v, now)
	})
	if err != nil {
		return LessonView{}, err
	}
	return v, nil
}

// completeText completes the text lesson of v, locked in tx, if it is still
// open, and its enrollment when nothing is left; it returns the
// lesson_completed event to append.
func (s *Store) completeText(ctx context.Context, tx pgx.Tx, v *LessonView, now time.Time) ([]tracking.Event, error) {
	if !openStatus(v.Status) {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE assignments SET status = 'completed', completed_at = $2 WHERE id = $1`,
		v.AssignmentID, now); err != nil {
		return nil, fmt.Errorf("complete lesson: %w", err)
	}
	v.Status = AssignmentCompleted
	done := v.event(tracking.KindLessonCompleted, tracking.DoneKey(v.AssignmentID), now)
	done.Detail = tracking.LessonDetail{Kind: string(KindText)}.String()
	if err := s.completeEnrollmentIfDone(ctx, tx, v.EnrollmentID); err != nil {
		return nil, err
	}
	return []tracking.Event{done}, nil
}

// openStatus reports whether an assignment in status can still be completed.
func openStatus(status AssignmentStatus) bool {
	return status == AssignmentPending || status == AssignmentScheduled || status == AssignmentSent
}

// event returns an event about the view's assignment.
func (v LessonView) event(kind, key string, at time.Time) tracking.Event {
	return tracking.Event{OrgID: v.OrgID, RepID: v.RepID, Key: key, Kind: kind, OccurredAt: at, CourseID: v.CourseID,
		EnrollmentID: v.EnrollmentID, AssignmentID: v.AssignmentID, LessonID: v.LessonID}
}

// lessonView loads the view of token inside tx; lock locks the assignment,
// so that concurrent openings of one link take turns.
func (s *Store) lessonView(ctx context.Context, tx pgx.Tx, token string, lock bool) (LessonView, error) {
	v := LessonView{Token: token}
	var versionID int64
	var subset []int32
	var watched pgtype.Bits
	q := `
		SELECT k.assignment_id, k.rep_id, e.org_id, e.id, cv.course_id, a.lesson_id, r.name, r.phone, e.course_version_id,
			a.status, a.questions,
			(SELECT count(*) FROM assignments x WHERE x.enrollment_id = e.id AND x.status <> 'skipped' AND x.position <= a.position),
			(SELECT count(*) FROM assignments x WHERE x.enrollment_id = e.id AND x.status <> 'skipped'),
			p.watched, coalesce(p.position, 0), cv.video_complete_percent
		FROM lesson_links k
		JOIN assignments a ON a.id = k.assignment_id
		JOIN enrollments e ON e.id = a.enrollment_id
		JOIN reps r ON r.id = k.rep_id
		JOIN course_versions cv ON cv.id = e.course_version_id
		LEFT JOIN video_progress p ON p.assignment_id = a.id
		WHERE k.token = $1 AND r.status = 'active' AND e.status <> 'cancelled'`
	if lock {
		q += ` FOR UPDATE OF a`
	}
	err := tx.QueryRow(ctx, q, token).Scan(&v.AssignmentID, &v.RepID, &v.OrgID, &v.EnrollmentID, &v.CourseID, &v.LessonID,
		&v.RepName, &v.RepPhone, &versionID, &v.Status, &subset, &v.Step, &v.Steps, &watched, &v.Position, &v.CompletePercent)
	if noRows(err) {
		return LessonView{}, errLinkNotFound()
	}
	if err != nil {
		return LessonView{}, fmt.Errorf("read lesson link: %w", err)
	}
	cv, err := s.version(ctx, tx, versionID)
	if err != nil {
		return LessonView{}, err
	}
	l := cv.lesson(v.LessonID)
	if l == nil {
		return LessonView{}, fmt.Errorf("lesson %d is not in course version %d", v.LessonID, versionID)
	}
	v.Lesson = *l
	v.Lesson.Questions = append([]Question(nil), l.Questions...) // the cached version is shared
	v.CourseTitle = cv.Spec.Title
	v.TextCompletion, _ = cv.Spec.completionOrDefault()
	switch v.Lesson.Kind {
	case KindVideo:
		v.Watched = watchedFlags(watched, tracking.SegmentCount(v.Lesson.VideoSeconds))
	case KindQuiz:
		if v.Questions, err = quizSteps(ctx, tx, v.AssignmentID, quizQuestions(l, subset)); err != nil {
			return LessonView{}, err
		}
		open, found, err := s.openQuestion(ctx, tx, v.RepID)
		if err != nil {
			return LessonView{}, err
		}
		for _, q := range v.Questions {
			if q.Current {
				v.AwaitingAnswer = found && open.assignmentID == v.AssignmentID && open.purpose == PurposeQuestion && open.question == q.Index
			}
		}
	}
	return v, nil
}

// quizSteps marks which of the asked questions have a graded answer.
func quizSteps(ctx context.Context, tx pgx.Tx, assignmentID int64, asked []int) ([]QuizStep, error) {
	rows, err := tx.Query(ctx, `
		SELECT t.question FROM attempts t JOIN messages m ON m.id = t.asked_id
		WHERE t.assignment_id = $1 AND m.purpose = 'question'`, assignmentID)
	if err != nil {
		return nil, fmt.Errorf("read answers: %w", err)
	}
	answered, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read answers: %w", err)
	}
	done := make(map[int]bool, len(answered))
	for _, q := range answered {
		done[q] = true
	}
	steps := make([]QuizStep, len(asked))
	current := false
	for i, q := range asked {
		steps[i] = QuizStep{Index: q, Answered: done[q]}
		if !done[q] && !current {
			steps[i].Current, current = true, true
		}
	}
	return steps, nil
}

// WatchedSegment is one video segment a rep played to the end, from a
// segment_watched event.
type WatchedSegment struct {
	AssignmentID int64
	Segment      int
	Position     float64   // where the player was when it was reported
	At           time.Time // when it was played; zero: now
}

// WatchedSegments picks the segment_watched events out of events, for
// RecordWatched; tombstones are left out.
func WatchedSegments(events []tracking.Event) []WatchedSegment {
	out := make([]WatchedSegment, 0, len(events))
	for _, e := range events {
		if e.Kind != tracking.KindSegmentWatched || e.Deleted || e.AssignmentID == 0 {
			continue
		}
		seg := WatchedSegment{AssignmentID: e.AssignmentID, Segment: int(e.Value), At: e.OccurredAt}
		if pos, err := tracking.DetailPosition(e.Detail); err == nil {
			seg.Position = pos
		} else {
			seg.Position = float64((seg.Segment + 1) * tracking.SegmentSeconds)
		}
		out = append(out, seg)
	}
	return out
}

// videoProgress is what a batch of segments brings to one assignment.
type videoProgress struct {
	watched  segmentSet
	position float64   // the last given
	at       time.Time // when the latest segment was played
}

// recordWatched ORs each assignment's segments ($2, bit strings, one a
// segment from the left) into its video progress, sets its position ($3),
// and returns the assignments it leaves at or over their course's
// video_complete_percent that are still open in an active enrollment. The
// segments are fitted to the video's length first: those past its end are
// dropped. Assignments that are not video lessons are left out.
const recordWatched = `
	WITH target AS (
		SELECT x.id, x.status, x.enrollment_id, x.lesson_id, g.position,
			substring(g.watched || repeat('0', x.n)::varbit FROM 1 FOR x.n) AS watched
		FROM unnest($1::bigint[], $2::varbit[], $3::float8[]) AS g(assignment_id, watched, position)
		CROSS JOIN LATERAL (
			-- OFFSET 0 keeps this a lookup by primary key per assignment:
			-- joined, the planner may hash the whole table.
			SELECT a.id, a.status, a.enrollment_id, a.lesson_id, (l.video_seconds + $4::int - 1) / $4::int AS n
			FROM assignments a JOIN course_lessons l ON l.id = a.lesson_id
			WHERE a.id = g.assignment_id AND l.kind = 'video'
			OFFSET 0
		) x
	), upserted AS (
		INSERT INTO video_progress AS vp (assignment_id, watched, position, updated_at)
		SELECT id, watched, position, $5 FROM target ORDER BY id
		ON CONFLICT (assignment_id) DO UPDATE SET
			watched = CASE WHEN length(vp.watched) = length(excluded.watched) THEN vp.watched | excluded.watched
				ELSE substring(vp.watched || repeat('0', length(excluded.watched))::varbit
						FROM 1 FOR greatest(length(vp.watched), length(excluded.watched)))
					| substring(excluded.watched || repeat('0', length(vp.watched))::varbit
						FROM 1 FOR greatest(length(vp.watched), length(excluded.watched)))
				END,
			position = excluded.position, updated_at = excluded.updated_at
		RETURNING vp.assignment_id, bit_count(vp.watched) AS seen, length(vp.watched) AS segments
	)
	SELECT u.assignment_id, u.seen, u.segments, t.lesson_id, e.id, e.org_id, e.rep_id, cv.course_id,
		cv.video_complete_percent
	FROM upserted u
	JOIN target t ON t.id = u.assignment_id
	JOIN enrollments e ON e.id = t.enrollment_id
	JOIN course_versions cv ON cv.id = e.course_version_id
	WHERE t.status IN ('pending', 'scheduled', 'sent') AND e.status = 'active'
		AND u.segments > 0 AND u.seen * 100 >= cv.video_complete_percent * u.segments`

// RecordWatched adds played segments to their video lessons' progress. It
// joins tx, the transaction that ships the segment events (tracking.Ship's
// onShipped, which the binary's scheduler config sets), so that progress is
// counted once per event, as the outbox rows are deleted: each assignment's
// watched segments are OR-ed in and its position set to the last one given.
// A video assignment whose watched share reaches its course's
// video_complete_percent is completed, with a lesson_completed event, and so
// is its enrollment when nothing is left. Segments of assignments that are not
// video lessons, and segment numbers outside the video, are ignored. The
// segments are gathered per assignment here, so that a batch takes one
// statement, and one more for each assignment it completes.
func (s *Store) RecordWatched(ctx context.Context, tx pgx.Tx, segs []WatchedSegment) error {
	if len(segs) == 0 {
		return nil
	}
	now := s.Now()
	batch := make(map[int64]*videoProgress)
	for _, g := range segs {
		at := g.At
		if at.IsZero() {
			at = now
		}
		p := batch[g.AssignmentID]
		if p == nil {
			p = &videoProgress{at: at}
			batch[g.AssignmentID] = p
		}
		p.position = g.Position
		if at.After(p.at) {
			p.at = at
		}
		if g.Segment >= 0 && g.Segment < maxVideoSegments {
			p.watched.add(g.Segment)
		}
	}
	ids := make([]int64, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	slices.Sort(ids) // one lock order for concurrent batches
	watched := make([]pgtype.Bits, len(ids))
	positions := make([]float64, len(ids))
	for i, id := range ids {
		watched[i], positions[i] = batch[id].watched.value(), batch[id].position
	}
	rows, err := tx.Query(ctx, recordWatched, ids, watched, positions, tracking.SegmentSeconds, now)
	if err != nil {
		return fmt.Errorf("record watched segments: %w", err)
	}
	type candidate struct {
		view    LessonView
		percent int
	}
	var candidates []candidate
	var complete []int64
	for rows.Next() {
		var v LessonView
		var seen, segments int
		if err := rows.Scan(&v.AssignmentID, &seen, &segments, &v.LessonID, &v.EnrollmentID, &v.OrgID, &v.RepID,
			&v.CourseID, &v.CompletePercent); err != nil {
			rows.Close()
			return fmt.Errorf("record watched segments: %w", err)
		}
		candidates = append(candidates, candidate{v, seen * 100 / segments})
		complete = append(complete, v.AssignmentID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("record watched segments: %w", err)
	}
	if len(complete) == 0 {
		return nil
	}
	// The status is checked again under the row lock: a concurrent batch
	// completes an assignment once.
	rows, err = tx.Query(ctx, `
		UPDATE assignments SET status = 'completed', completed_at = $2
		WHERE id IN (SELECT id FROM assignments WHERE id = ANY($1) ORDER BY id FOR UPDATE)
			AND status IN ('pending', 'scheduled', 'sent')
		RETURNING id`, complete, now)
	if err != nil {
		return fmt.Errorf("complete videos: %w", err)
	}
	completed, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("complete videos: %w", err)
	}
	done := make(map[int64]bool, len(completed))
	for _, id := range completed {
		done[id] = true
	}
	var events []tracking.Event
	var enrollments []int64
	for _, c := range candidates {
		if !done[c.view.AssignmentID] {
			continue
		}
		e := c.view.event(tracking.KindLessonCompleted, tracking.DoneKey(c.view.AssignmentID), batch[c.view.AssignmentID].at)
		e.Value = float64(c.percent)
		e.Detail = tracking.LessonDetail{Kind: string(KindVideo)}.String()
		events = append(events, e)
		enrollments = append(enrollments, c.view.EnrollmentID)
	}
	if err := tracking.Append(ctx, tx, events...); err != nil {
		return err
	}
	slices.Sort(enrollments) // one lock order for concurrent batches
	for _, id := range slices.Compact(enrollments) {
		if err := s.completeEnrollmentIfDone(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// PingLink is what a video ping needs of its lesson link.
type PingLink struct {
	OrgID, RepID, CourseID, EnrollmentID, AssignmentID, LessonID int64
	VideoSeconds                                                 int // 0: not a video lesson
}

// PingLinks looks the links of tokens up in one read-only transaction (one
// query, and one per course version not cached yet). A token that is
// malformed, unknown, or the link of a removed rep or a cancelled
// enrollment is left out, as LessonByToken finds none.
func (s *Store) PingLinks(ctx context.Context, tokens []string) (map[string]PingLink, error) {
	valid := make([]string, 0, len(tokens))
	for _, t := range tokens {
		if ValidLinkToken(t) {
			valid = append(valid, t)
		}
	}
	out := make(map[string]PingLink, len(valid))
	if len(valid) == 0 {
		return out, nil
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT k.token, e.org_id, k.rep_id, cv.course_id, e.id, a.id, a.lesson_id, e.course_version_id
			FROM lesson_links k
			JOIN assignments a ON a.id = k.assignment_id
			JOIN enrollments e ON e.id = a.enrollment_id
			JOIN reps r ON r.id = k.rep_id
			JOIN course_versions cv ON cv.id = e.course_version_id
			WHERE k.token = ANY($1) AND r.status = 'active' AND e.status <> 'cancelled'`, valid)
		if err != nil {
			return fmt.Errorf("read lesson links: %w", err)
		}
		versions := map[string]int64{}
		for rows.Next() {
			var token string
			var l PingLink
			var version int64
			if err := rows.Scan(&token, &l.OrgID, &l.RepID, &l.CourseID, &l.EnrollmentID, &l.AssignmentID, &l.LessonID, &version); err != nil {
				return fmt.Errorf("read lesson links: %w", err)
			}
			out[token], versions[token] = l, version
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read lesson links: %w", err)
		}
		for token, id := range versions {
			cv, err := s.version(ctx, tx, id)
			if err != nil {
				return err
			}
			l := out[token]
			if lesson := cv.lesson(l.LessonID); lesson != nil && lesson.Kind == KindVideo {
				l.VideoSeconds = lesson.VideoSeconds
				out[token] = l
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
