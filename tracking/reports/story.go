package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/morselhq/morsel/tracking"
)

// MaxStoryEvents bounds the event rows (every version) a rep page reads.
const MaxStoryEvents = 20_000

// Story is everything that happened to one rep, as the rep page shows it.
type Story struct {
	Rep         Match
	Enrollments []Row
	Entries     []Entry // newest first: the page asked for
	Total       int     // entries on every page
	Skip        int     // newer entries than the page's
	Videos      []Video // per video step, the segments watched
	Truncated   bool    // the rep has more events than MaxStoryEvents: the oldest are left out
}

// Entry is one event of the timeline, as it stands now, with what it
// replaced.
type Entry struct {
	Key          string
	Kind         string
	At           time.Time
	EnrollmentID int64
	AssignmentID int64
	LessonID     int64
	Value        float64
	Detail       map[string]any // the event's detail JSON, on the page asked for; nil when it has none
	detail       string         // the JSON, decoded into Detail for the page shown
	// Void is set when the event was voided: it no longer counts.
	Void *Change
	// Replaced lists the earlier versions a correction replaced, newest first.
	Replaced []Version
}

// Change says when and why an event was changed, and by whom.
type Change struct {
	At     time.Time
	Reason string
	By     string
	detail string // the tombstone's, which says why and by whom
}

// Version is an earlier version of an event.
type Version struct {
	At       time.Time // when it said the event occurred
	Value    float64
	Detail   map[string]any
	detail   string
	Replaced time.Time // when the next version was written
}

// Video is the segments a rep watched of one video step.
type Video struct {
	EnrollmentID, AssignmentID, LessonID int64
	Watched                              []int // segment indexes, ascending
}

// timelineKinds are the kinds the timeline lists; segments and video pings
// show on the video strips, facts as the rep's and enrollments' figures.
var timelineKinds = []string{
	tracking.KindMessageSent, tracking.KindMessageDelivered, tracking.KindMessageFailed, tracking.KindReply,
	tracking.KindGraded, tracking.KindLessonOpened, tracking.KindLessonCompleted, tracking.KindCourseCompleted,
	tracking.KindOptedOut, tracking.KindOptedIn, tracking.KindPathChanged,
}

// Story reads a rep's story, with the page of their timeline that skips
// the skip newest entries and holds up to limit (0: every one); a skip past
// the end gives the last page of limit. ErrNotFound when the rep is not in
// the scope (or was removed).
func (r *Reports) Story(ctx context.Context, s Scope, repID int64, skip, limit int) (Story, error) {
	sn, err := r.snapshot(ctx, s.OrgID)
	if err != nil {
		return Story{}, err
	}
	rep := sn.reps[repID]
	if rep == nil || rep.summary == nil || rep.summary.RepStatus == "removed" || !s.inScope(rep.summary.TeamID, 0) {
		return Story{}, ErrNotFound
	}
	st := Story{Rep: matchOf(rep.summary, s)}
	now := r.now().UTC()
	for i := len(rep.rows) - 1; i >= 0; i-- { // the newest enrollment first
		if p := &rep.rows[i]; p.live && p.TeamID == rep.summary.TeamID {
			st.Enrollments = append(st.Enrollments, rowOf(p, now))
		}
	}
	entries, err := r.readEvents(ctx, s.OrgID, repID, &st)
	if err != nil {
		return Story{}, err
	}
	st.Total = len(entries)
	if limit <= 0 {
		limit = max(1, st.Total)
	}
	st.Skip = min(max(0, skip), max(0, st.Total-1)/limit*limit)
	// The page, newest first. Sorting the entries' indexes, not the
	// entries, keeps a rep with thousands of events cheap.
	order := make([]int32, len(entries))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := entries[b].At.Compare(entries[a].At); c != 0 {
			return c
		}
		return strings.Compare(entries[a].Key, entries[b].Key)
	})
	for _, i := range order[st.Skip:min(st.Total, st.Skip+limit)] {
		st.Entries = append(st.Entries, entries[i])
	}
	// Only the page's details are decoded: a rep may have thousands of events.
	for i := range st.Entries {
		e := &st.Entries[i]
		e.Detail = parseDetail(e.detail)
		if e.Void != nil {
			var v tracking.VoidDetail // a tombstone that does not read says no reason
			_ = json.Unmarshal([]byte(e.Void.detail), &v)
			e.Void.Reason, e.Void.By = v.Reason, v.By
		}
		for j := range e.Replaced {
			e.Replaced[j].Detail = parseDetail(e.Replaced[j].detail)
		}
	}
	return st, nil
}

// storyRow is one version of one event.
type storyRow struct {
	e       Entry
	version uint64
	deleted bool
}

// readEvents reads every version of the rep's events, the newest
// MaxStoryEvents when there are more: it returns the timeline's entries, in
// no order, and sets the story's video strips.
func (r *Reports) readEvents(ctx context.Context, orgID, repID int64, st *Story) ([]Entry, error) {
	rows, err := r.query(ctx, "read the rep's events", `
		SELECT event_key, kind, occurred_at, enrollment_id, assignment_id, lesson_id, value, detail, version, deleted
		FROM events
		WHERE org_id = @org AND rep_id = @rep AND has(@kinds, kind)
		ORDER BY occurred_at DESC
		LIMIT `+fmt.Sprint(MaxStoryEvents+1),
		clickhouse.Named("org", uint64(orgID)), clickhouse.Named("rep", uint64(repID)),
		clickhouse.Named("kinds", append(slices.Clone(timelineKinds), tracking.KindSegmentWatched)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	all := make([]storyRow, 0, 1024)
	for rows.Next() {
		if len(all) == MaxStoryEvents {
			st.Truncated = true
			break
		}
		var v storyRow
		var enrollment, assignment, lesson uint64
		var deleted uint8
		if err := rows.Scan(&v.e.Key, &v.e.Kind, &v.e.At, &enrollment, &assignment, &lesson, &v.e.Value, &v.e.detail, &v.version, &deleted); err != nil {
			return nil, &Unavailable{fmt.Errorf("read the rep's events: %w", err)}
		}
		v.e.EnrollmentID, v.e.AssignmentID, v.e.LessonID, v.deleted = int64(enrollment), int64(assignment), int64(lesson), deleted == 1
		all = append(all, v)
	}
	if err := rows.Err(); err != nil {
		return nil, &Unavailable{fmt.Errorf("read the rep's events: %w", err)}
	}
	// Each key's versions together, newest first: the rows are grouped by
	// key in the order the keys first come (a hash, not a sort: a rep may
	// have thousands of rows, and they are big), and a key's few versions
	// sorted; a version stored twice (not merged yet) is one.
	group := make([]int32, len(all))
	firstOf := make(map[string]int32, len(all))
	var sizes []int32
	for i := range all {
		g, ok := firstOf[all[i].e.Key]
		if !ok {
			g = int32(len(sizes))
			firstOf[all[i].e.Key] = g
			sizes = append(sizes, 0)
		}
		group[i] = g
		sizes[g]++
	}
	starts := make([]int32, len(sizes)+1)
	for g, n := range sizes {
		starts[g+1] = starts[g] + n
	}
	order := make([]int32, len(all))
	fill := slices.Clone(starts[:len(sizes)])
	for i, g := range group {
		order[fill[g]] = int32(i)
		fill[g]++
	}
	entries := make([]Entry, 0, len(sizes))
	videos := map[int64]*Video{}
	versions := make([]*storyRow, 0, 4)
	for g := range sizes {
		versions = versions[:0]
		for _, i := range order[starts[g]:starts[g+1]] {
			versions = append(versions, &all[i])
		}
		slices.SortFunc(versions, func(a, b *storyRow) int { return compareDesc(a.version, b.version) })
		versions = slices.CompactFunc(versions, func(a, b *storyRow) bool { return a.version == b.version })
		e := entryOf(versions)
		if e.Kind != tracking.KindSegmentWatched {
			entries = append(entries, e)
			continue
		}
		if e.Void == nil && e.AssignmentID != 0 {
			v := videos[e.AssignmentID]
			if v == nil {
				v = &Video{EnrollmentID: e.EnrollmentID, AssignmentID: e.AssignmentID, LessonID: e.LessonID}
				videos[e.AssignmentID] = v
			}
			v.Watched = append(v.Watched, int(e.Value))
		}
	}
	for _, v := range videos {
		slices.Sort(v.Watched)
		v.Watched = slices.Compact(v.Watched)
		st.Videos = append(st.Videos, *v)
	}
	slices.SortFunc(st.Videos, func(a, b Video) int { return compareDesc(uint64(a.AssignmentID), uint64(b.AssignmentID)) })
	return entries, nil
}

// entryOf makes one key's versions, newest first, into its entry: the
// newest version, or for a voided event the one the tombstone voided, with
// the versions it replaced.
func entryOf(versions []*storyRow) Entry {
	shown := 0 // the version whose content the entry shows
	if versions[0].deleted && len(versions) > 1 {
		shown = 1 // show what was voided, not the tombstone
	}
	e := versions[shown].e
	if versions[0].deleted {
		e.Void = &Change{At: time.Unix(0, int64(versions[0].version)).UTC(), detail: versions[0].e.detail}
	}
	for j := shown + 1; j < len(versions); j++ {
		o := versions[j]
		e.Replaced = append(e.Replaced, Version{At: o.e.At, Value: o.e.Value, detail: o.e.detail,
			Replaced: time.Unix(0, int64(versions[j-1].version)).UTC()})
	}
	return e
}

func compareDesc(a, b uint64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func parseDetail(s string) map[string]any {
	if s == "" {
		return nil
	}
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return map[string]any{"detail": s}
	}
	return m
}
