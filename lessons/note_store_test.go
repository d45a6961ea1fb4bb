package lessons_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

func TestResolveMentions(t *testing.T) {
	t.Parallel()
	users := []lessons.Mentionable{
		{ID: 1, Name: "Tess Taylor", Email: "tess@acme.test"},
		{ID: 2, Name: "Ana Lima", Email: "a.lima@acme.test"},
		{ID: 3, Name: "Ana Souza", Email: "asouza@acme.test"},
		{ID: 4, Name: "Omar Khan", Email: "omar@acme.test", CannotSee: true},
	}
	tests := []struct {
		name       string
		mentions   []string
		ids        []int64
		unnotified []string
	}{
		{"an email's name", []string{"tess"}, []int64{1}, nil},
		{"a dotted email name", []string{"a.lima"}, []int64{2}, nil},
		{"a whole name with dots", []string{"ana.souza"}, []int64{3}, nil},
		{"a whole name run together", []string{"tesstaylor"}, []int64{1}, nil},
		{"a first name two people share", []string{"ana"}, []int64{}, []string{"@ana: several people have that first name; use an email address's name, such as @a.lima"}},
		{"nobody", []string{"zed"}, []int64{}, []string{"@zed: no one in the organisation goes by that name"}},
		{"someone who cannot see the rep", []string{"omar"}, []int64{}, []string{"@omar: Omar Khan cannot see this rep"}},
		{"the same person twice", []string{"tess", "tess.taylor"}, []int64{1}, nil},
		{"none", nil, []int64{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, unnotified := lessons.ResolveMentions(tt.mentions, users)
			require.Equal(t, tt.ids, ids)
			require.Equal(t, tt.unnotified, unnotified)
		})
	}
}

// noteBundle is an organisation with two teams, a rep in each, an admin, a
// trainer and a manager of each team.
type noteBundle struct {
	testBundle
	admin, trainer, north, south lessons.User
	northRep, southRep           int64
}

func noteSetup(t *testing.T) noteBundle {
	t.Helper()
	ctx := context.Background()
	b := noteBundle{testBundle: setup(t)}
	user := func(name, email string, role lessons.Role, teams ...string) lessons.User {
		u, _, err := b.store.CreateUser(ctx, b.org.ID, lessons.NewUser{Name: name, Email: email, Role: role, Teams: teams})
		require.NoError(t, err)
		return u
	}
	b.admin = user("Ada Admin", "ada@acme.test", lessons.RoleAdmin)
	b.trainer = user("Tess Taylor", "tess@acme.test", lessons.RoleTrainer)
	b.north = user("Nora North", "nora@acme.test", lessons.RoleManager, "North")
	b.south = user("Sam South", "sam@acme.test", lessons.RoleManager, "South")
	_, err := b.store.ImportReps(ctx, b.org.ID, []lessons.RepInput{
		{Name: "Rita North", Phone: "+12025550101", Team: "North", TimeZone: "America/New_York"},
		{Name: "Sol South", Phone: "+12025550102", Team: "South", TimeZone: "America/New_York"},
	})
	require.NoError(t, err)
	rep := func(phone string) int64 {
		r, err := b.store.RepByPhone(ctx, b.org.ID, phone)
		require.NoError(t, err)
		return r.ID
	}
	b.northRep, b.southRep = rep("+12025550101"), rep("+12025550102")
	// SessionUser fills a manager's team ids; the store decides scope from
	// team_managers itself, so the users above serve as they are.
	return b
}

// outboxTags reads the tags the newest rep_changed event of the rep carries
// to the reports.
func (b noteBundle) outboxTags(t *testing.T, repID int64) []string {
	t.Helper()
	var detail string
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), `
		SELECT detail FROM event_outbox WHERE kind = 'rep_changed' AND rep_id = $1 ORDER BY id DESC LIMIT 1`, repID).Scan(&detail))
	var f struct {
		Tags []string `json:"tags"`
	}
	require.NoError(t, json.Unmarshal([]byte(detail), &f))
	return f.Tags
}

func TestNotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := noteSetup(t)

	// A manager notes a rep of their team; the tags and mentions are parsed.
	saved, err := b.store.AddNote(ctx, b.north, b.northRep, "called her, #needs-coaching, @tess please check the #Pricing quiz; @zed too")
	require.NoError(t, err)
	require.Equal(t, []string{"needs-coaching", "pricing"}, saved.Tags)
	require.Equal(t, []string{"@zed: no one in the organisation goes by that name"}, saved.Unnotified)
	require.Equal(t, "Nora North", saved.Author)
	require.Equal(t, 1, saved.Version)
	require.Equal(t, []string{"needs-coaching", "pricing"}, b.outboxTags(t, b.northRep), "the rep's facts carry the tags")

	// The other team's manager neither sees nor notes the rep; nor does
	// another organisation's admin.
	_, err = b.store.AddNote(ctx, b.south, b.northRep, "#x")
	requireCode(t, err, errs.NotFound)
	_, err = b.store.RepNotes(ctx, b.south, b.northRep)
	requireCode(t, err, errs.NotFound)
	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "other", Name: "Other"})
	require.NoError(t, err)
	outsider, _, err := b.store.CreateUser(ctx, other.ID, lessons.NewUser{Name: "Out Sider", Email: "out@other.test", Role: lessons.RoleAdmin})
	require.NoError(t, err)
	_, err = b.store.AddNote(ctx, outsider, b.northRep, "#x")
	requireCode(t, err, errs.NotFound)
	err = b.store.DeleteNote(ctx, outsider, saved.ID, 1)
	requireCode(t, err, errs.NotFound)

	// The mentioned trainer finds it in their mentions, once, as new.
	n, err := b.store.UnseenMentions(ctx, b.trainer)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ms, err := b.store.Mentions(ctx, b.trainer, 10)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	require.Equal(t, "Rita North", ms[0].RepName)
	require.False(t, ms[0].Seen)
	n, err = b.store.UnseenMentions(ctx, b.trainer)
	require.NoError(t, err)
	require.Zero(t, n, "the list marks them seen")

	// Only the author or an admin changes it, at the version they saw.
	_, err = b.store.EditNote(ctx, b.trainer, saved.ID, 1, "#mine")
	requireCode(t, err, errs.Forbidden)
	edited, err := b.store.EditNote(ctx, b.north, saved.ID, 1, "called her, #needs-coaching resolved")
	require.NoError(t, err)
	require.Equal(t, 2, edited.Version)
	require.Equal(t, []string{"needs-coaching"}, edited.Tags)
	require.Equal(t, []string{"needs-coaching"}, b.outboxTags(t, b.northRep), "#pricing left with the edit")
	_, err = b.store.EditNote(ctx, b.north, saved.ID, 1, "a stale edit")
	requireCode(t, err, errs.Conflict)
	ms, err = b.store.Mentions(ctx, b.trainer, 10)
	require.NoError(t, err)
	require.Empty(t, ms, "the edit no longer mentions @tess")

	// A second note shares a tag; the suggestions rank by use.
	_, err = b.store.AddNote(ctx, b.admin, b.southRep, "#needs-coaching and #new-hire")
	require.NoError(t, err)
	_, err = b.store.AddNote(ctx, b.trainer, b.southRep, "#needs-coaching #Négociation")
	require.NoError(t, err)
	tags, err := b.store.Tags(ctx, b.org.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, []lessons.TagCount{{"needs-coaching", 3}, {"new-hire", 1}, {"négociation", 1}}, tags)
	tags, err = b.store.Tags(ctx, b.org.ID, "#NE", 10)
	require.NoError(t, err)
	require.Equal(t, []lessons.TagCount{{"needs-coaching", 3}, {"new-hire", 1}}, tags)
	tags, err = b.store.Tags(ctx, other.ID, "", 10)
	require.NoError(t, err)
	require.Empty(t, tags, "another organisation's tags are its own")

	// An admin deletes the manager's note: the rep loses its tags, the
	// history keeps every version.
	require.NoError(t, b.store.DeleteNote(ctx, b.admin, saved.ID, 2))
	require.Empty(t, b.outboxTags(t, b.northRep))
	err = b.store.DeleteNote(ctx, b.admin, saved.ID, 3)
	requireCode(t, err, errs.Conflict)
	notes, err := b.store.RepNotes(ctx, b.north, b.northRep)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	require.True(t, notes[0].Deleted)
	var actions []string
	for _, h := range notes[0].History {
		actions = append(actions, h.Action+" by "+h.By)
	}
	require.Equal(t, []string{"written by Nora North", "edited by Nora North", "deleted by Ada Admin"}, actions)
	require.Equal(t, "called her, #needs-coaching, @tess please check the #Pricing quiz; @zed too", notes[0].History[0].Body)
}

func TestNoteInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := noteSetup(t)
	tests := []struct {
		name, body, want string
	}{
		{"empty", "  \n ", "is empty"},
		{"too long", strings.Repeat("é", lessons.NoteMaxRunes+1), "has 2001 characters"},
		{"a control character", "hi\x00there", "control character (U+0000) at byte 2"},
		{"too many tags", tagsText(lessons.NoteMaxTags + 1), "has 21 #tags"},
		{"not UTF-8", "bad \xff byte", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.store.AddNote(ctx, b.admin, b.northRep, tt.body)
			requireCode(t, err, errs.Invalid)
			require.Contains(t, errs.As(err).Details[0].Message, tt.want)
		})
	}
	notes, err := b.store.RepNotes(ctx, b.admin, b.northRep)
	require.NoError(t, err)
	require.Empty(t, notes, "nothing was stored")
}

func tagsText(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" #tag" + string(rune('a'+i%26)) + strings.Repeat("x", i/26))
	}
	return b.String()
}

// Two editors of one version: one wins, the other is told, and the history
// has one edit.
func TestNoteEditRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := noteSetup(t)
	saved, err := b.store.AddNote(ctx, b.admin, b.northRep, "first #draft")
	require.NoError(t, err)
	const editors = 8
	var wg sync.WaitGroup
	errors := make([]error, editors)
	for i := range editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errors[i] = b.store.EditNote(ctx, b.admin, saved.ID, 1, "edit #"+string(rune('a'+i)))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errors {
		if err == nil {
			won++
		} else {
			requireCode(t, err, errs.Conflict)
		}
	}
	require.Equal(t, 1, won)
	notes, err := b.store.RepNotes(ctx, b.admin, b.northRep)
	require.NoError(t, err)
	require.Len(t, notes[0].History, 2)
	require.Equal(t, 2, notes[0].Version)
}
