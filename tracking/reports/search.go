package reports

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Search limits.
const (
	MaxSearchRunes = 64 // characters of a search
	SearchResults  = 10 // reps a search returns
)

// Match is one rep a search found.
type Match struct {
	RepID, TeamID  int64
	Name, Team     string
	Phone, Email   string // empty without Scope.Contacts
	Enrollments    int
	Done           int
	LastActivityAt time.Time // zero: none yet
}

// Search finds the reps in scope whose name, phone number or email address
// (the last two only with Scope.Contacts) contains text, ignoring case,
// from the first letter. The best first: a name that starts with the text,
// then one with a word that does, then any other match; plus a bonus for
// recent activity that halves in about five days, so that a rep active
// today outranks a namesake idle for a month.
func (r *Reports) Search(ctx context.Context, s Scope, text string) ([]Match, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(text) > MaxSearchRunes {
		text = string([]rune(text)[:MaxSearchRunes])
	}
	q := strings.ToLower(text)
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, text)
	match := `positionCaseInsensitiveUTF8(name, @q) > 0`
	if s.Contacts {
		match += ` OR positionCaseInsensitiveUTF8(email, @q) > 0`
		// Only a search of digits (and the punctuation of a number) looks in
		// phone numbers, so that "a1" does not match every number with a 1.
		if digits != "" && isPhoneLike(text) {
			match += ` OR position(phone, @digits) > 0`
		}
	}
	rows, err := r.query(ctx, "search reps", `
		SELECT rep_id, team_id, name, team_name, phone, email, enrollments, done, last_activity_at,
			multiIf(startsWith(lowerUTF8(name), @q), 3, positionCaseInsensitiveUTF8(name, concat(' ', @q)) > 0, 2, 1)
				+ 2 * exp((toInt64(toUInt32(last_activity_at)) - toInt64(@now)) / 604800) AS score
		FROM rep_summary FINAL
		WHERE `+s.where(0)+` AND deleted = 0 AND rep_status != 'removed' AND (`+match+`)
		ORDER BY score DESC, lowerUTF8(name), rep_id
		LIMIT `+fmt.Sprint(SearchResults),
		clickhouse.Named("q", q), clickhouse.Named("digits", digits), nowArg(r.now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Match
	for rows.Next() {
		var rep, team uint64
		var enrollments, done uint32
		var score float64
		var m Match
		if err := rows.Scan(&rep, &team, &m.Name, &m.Team, &m.Phone, &m.Email, &enrollments, &done, &m.LastActivityAt, &score); err != nil {
			return nil, &Unavailable{fmt.Errorf("search reps: %w", err)}
		}
		m.RepID, m.TeamID, m.Enrollments, m.Done = int64(rep), int64(team), int(enrollments), int(done)
		m.LastActivityAt = zero(m.LastActivityAt)
		if !s.Contacts {
			m.Phone, m.Email = "", ""
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, &Unavailable{fmt.Errorf("search reps: %w", err)}
	}
	return out, nil
}

// isPhoneLike says whether a search looks like part of a phone number.
func isPhoneLike(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) && !strings.ContainsRune("+-(). ", r) {
			return false
		}
	}
	return true
}
