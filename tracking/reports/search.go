package reports

import (
	"cmp"
	"context"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	phone := s.Contacts && digits != "" && isPhoneLike(text)
	sn, err := r.snapshot(ctx, s.OrgID)
	if err != nil {
		return nil, err
	}
	now, word := r.now().Unix(), " "+q
	type scored struct {
		m     *summaryRow
		score float64
	}
	var found []scored
	sn.summaries(s, func(m *summaryRow) {
		// Only a search of digits (and the punctuation of a number) looks in
		// phone numbers, so that "a1" does not match every number with a 1.
		if !strings.Contains(m.name, q) && !(s.Contacts && strings.Contains(m.email, q)) &&
			!(phone && strings.Contains(m.Phone, digits)) {
			return
		}
		score := 1.0
		switch {
		case strings.HasPrefix(m.name, q):
			score = 3
		case strings.Contains(m.name, word):
			score = 2
		}
		score += 2 * math.Exp(float64(unix(m.LastActivityAt)-now)/recencyScale)
		found = append(found, scored{m, score})
	})
	found = smallest(found, SearchResults, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), strings.Compare(a.m.name, b.m.name), cmp.Compare(a.m.RepID, b.m.RepID))
	})
	out := make([]Match, 0, len(found))
	for _, f := range found {
		out = append(out, matchOf(f.m, s))
	}
	return out, nil
}

// recencyScale is the seconds over which the bonus for recent activity
// falls by a factor e: a week, so that it halves in about five days.
const recencyScale = 7 * 24 * 3600

// matchOf is the rep as a search shows them in s.
func matchOf(m *summaryRow, s Scope) Match {
	out := Match{RepID: m.RepID, TeamID: m.TeamID, Name: m.Name, Team: m.Team, Enrollments: m.Enrollments,
		Done: m.Done, LastActivityAt: m.LastActivityAt}
	if s.Contacts {
		out.Phone, out.Email = m.Phone, m.Email
	}
	return out
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
