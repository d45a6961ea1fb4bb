package tracking

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// gradeKeyPrefix starts the key of every graded answer's event.
const gradeKeyPrefix = "grade/"

const insertAttempts = `INSERT INTO question_attempts (org_id, course_id, rep_id, event_key, kind, occurred_at,
	lesson_id, value, detail, version, deleted)`

// writeAttempts writes the graded answers among events (any event whose key
// is a grade's, so that a correction or a tombstone replaces its row) into
// question_attempts, the question report's table sorted by course.
func writeAttempts(ctx context.Context, ch driver.Conn, events []Event) error {
	var grades []Event
	for _, e := range events {
		if strings.HasPrefix(e.Key, gradeKeyPrefix) {
			grades = append(grades, e)
		}
	}
	if len(grades) == 0 {
		return nil
	}
	batch, err := ch.PrepareBatch(ctx, insertAttempts)
	if err != nil {
		return fmt.Errorf("write quiz answers: %w", err)
	}
	for _, e := range grades {
		err := batch.Append(uint64(e.OrgID), uint64(e.CourseID), uint64(e.RepID), e.Key, e.Kind, e.OccurredAt.UTC(),
			uint64(e.LessonID), e.Value, e.Detail, e.Version, boolByte(e.Deleted))
		if err != nil {
			batch.Abort()
			return fmt.Errorf("write quiz answers: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("write %d quiz answers: %w", len(grades), err)
	}
	return nil
}
