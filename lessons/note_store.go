package lessons

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
)

// Notes on reps (migrations/postgres/0017): written by the organisation's
// admins, trainers and the managers of the rep's team, read by the same. The
// author or an admin edits or deletes a note; every version stays in its
// history. A note's #tags are the rep's tags while it lives, shipped to the
// reports with the rep's facts in the same transaction; its @mentions put it
// in the mentioned users' mentions list.

// Limits of a note.
const (
	NoteMaxRunes    = 2000
	NoteMaxTags     = 20
	NoteMaxMentions = 20
)

// Note is a note on a rep, as it stands, with its history.
type Note struct {
	ID        int64
	RepID     int64
	AuthorID  int64
	Author    string
	Body      string
	Tags      []string
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
	Deleted   bool
	History   []NoteRevision // oldest first; the last is the current version
}

// Edited says whether the note was changed after it was written.
func (n Note) Edited() bool { return n.Version > 1 && !n.Deleted }

// NoteRevision is one version of a note: written, edited or deleted, by whom.
type NoteRevision struct {
	Version int
	Action  string // "written", "edited" or "deleted"
	Body    string
	By      string
	At      time.Time
}

// NoteSaved is a note after a write, with the mentions that reached no one:
// the names that match no user who can see the rep, each with why.
type NoteSaved struct {
	Note
	Unnotified []string
}

// noteBody checks a note's text and parses it.
func noteBody(body string) (text string, tags, mentions []string, err error) {
	text = strings.TrimSpace(body)
	var d []errs.Detail
	switch n := utf8.RuneCountInString(text); {
	case !utf8.ValidString(text):
		d = append(d, errs.Detail{Path: "body", Message: "is not valid UTF-8"})
	case n == 0:
		d = append(d, errs.Detail{Path: "body", Message: "is empty: write something"})
	case n > NoteMaxRunes:
		d = append(d, errs.Detail{Path: "body", Message: fmt.Sprintf("has %d characters; a note has at most %d", n, NoteMaxRunes)})
	}
	if i := strings.IndexFunc(text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }); i >= 0 {
		d = append(d, errs.Detail{Path: "body", Message: fmt.Sprintf("holds a control character (%U) at byte %d", []rune(text[i:])[0], i)})
	}
	if d == nil {
		tags, mentions = ParseNote(text)
		if len(tags) > NoteMaxTags {
			d = append(d, errs.Detail{Path: "body", Message: fmt.Sprintf("has %d #tags; a note has at most %d", len(tags), NoteMaxTags)})
		}
		if len(mentions) > NoteMaxMentions {
			d = append(d, errs.Detail{Path: "body", Message: fmt.Sprintf("mentions %d people; a note mentions at most %d", len(mentions), NoteMaxMentions)})
		}
	}
	if d != nil {
		return "", nil, nil, errs.InvalidInput("The note is not valid.", d)
	}
	if tags == nil {
		tags = []string{}
	}
	return text, tags, mentions, nil
}

// seeRep locks the rep inside tx if u may see them (and so note them): an
// admin or trainer of their organisation, or a manager of their team. Else
// NotFound, as for a rep that does not exist.
func seeRep(ctx context.Context, tx pgx.Tx, u User, repID int64) error {
	var id int64
	err := tx.QueryRow(ctx, `
		SELECT r.id FROM reps r
		WHERE r.id = $1 AND r.org_id = $2 AND ($3 <> 'manager'
			OR EXISTS (SELECT FROM team_managers m WHERE m.team_id = r.team_id AND m.user_id = $4))
		FOR UPDATE`, repID, u.OrgID, string(u.Role), u.ID).Scan(&id)
	if noRows(err) {
		return errs.Errorf(errs.NotFound, "rep %d not found", repID)
	}
	if err != nil {
		return fmt.Errorf("read rep %d: %w", repID, err)
	}
	return nil
}

// AddNote writes a note on a rep as u. Its tags become the rep's at once
// (the reports have them once the outbox ships), and the people it mentions
// who may see the rep find it in their mentions list.
func (s *Store) AddNote(ctx context.Context, u User, repID int64, body string) (NoteSaved, error) {
	text, tags, mentions, err := noteBody(body)
	if err != nil {
		return NoteSaved{}, err
	}
	var saved NoteSaved
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := seeRep(ctx, tx, u, repID); err != nil {
			return err
		}
		now := s.Now()
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO notes (org_id, rep_id, author_id, body, tags, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, u.OrgID, repID, u.ID, text, tags, now).Scan(&id)
		if err != nil {
			return dbError(err, "note")
		}
		if err := noteRevision(ctx, tx, id, 1, "written", text, tags, u.ID, now); err != nil {
			return err
		}
		if saved.Unnotified, err = s.syncMentions(ctx, tx, u.OrgID, repID, id, mentions, now); err != nil {
			return err
		}
		if err := appendRepFacts(ctx, tx, now, repID); err != nil {
			return err
		}
		saved.Note, err = readNote(ctx, tx, id)
		return err
	})
	return saved, err
}

// EditNote replaces a note's text, as its author or an admin. version is the
// version the editor saw: when someone changed the note since, nothing is
// written and the error says so (Conflict).
func (s *Store) EditNote(ctx context.Context, u User, noteID int64, version int, body string) (NoteSaved, error) {
	text, tags, mentions, err := noteBody(body)
	if err != nil {
		return NoteSaved{}, err
	}
	var saved NoteSaved
	err = s.changeNote(ctx, u, noteID, version, func(tx pgx.Tx, repID int64, now time.Time) error {
		_, err := tx.Exec(ctx, `UPDATE notes SET body = $2, tags = $3, version = version + 1, updated_at = $4 WHERE id = $1`,
			noteID, text, tags, now)
		if err != nil {
			return dbError(err, "note")
		}
		if err := noteRevision(ctx, tx, noteID, version+1, "edited", text, tags, u.ID, now); err != nil {
			return err
		}
		saved.Unnotified, err = s.syncMentions(ctx, tx, u.OrgID, repID, noteID, mentions, now)
		return err
	})
	if err != nil {
		return NoteSaved{}, err
	}
	saved.Note, err = s.note(ctx, noteID)
	return saved, err
}

// DeleteNote deletes a note, as its author or an admin: it leaves the rep's
// tags and the mentions lists, and stays in its history. version is as for
// EditNote.
func (s *Store) DeleteNote(ctx context.Context, u User, noteID int64, version int) error {
	return s.changeNote(ctx, u, noteID, version, func(tx pgx.Tx, _ int64, now time.Time) error {
		var body string
		var tags []string
		err := tx.QueryRow(ctx, `UPDATE notes SET deleted_at = $2, version = version + 1, updated_at = $2 WHERE id = $1
			RETURNING body, tags`, noteID, now).Scan(&body, &tags)
		if err != nil {
			return dbError(err, "note")
		}
		if err := noteRevision(ctx, tx, noteID, version+1, "deleted", body, tags, u.ID, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM note_mentions WHERE note_id = $1`, noteID)
		return err
	})
}

// changeNote runs change on a live note that u may change, at the version
// given, in one transaction that also ships the rep's new tags. The rep is
// locked first, as AddNote does, then the note.
func (s *Store) changeNote(ctx context.Context, u User, noteID int64, version int, change func(tx pgx.Tx, repID int64, now time.Time) error) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var repID, authorID int64
		err := tx.QueryRow(ctx, `SELECT rep_id, author_id FROM notes WHERE id = $1 AND org_id = $2`, noteID, u.OrgID).Scan(&repID, &authorID)
		if noRows(err) {
			return errs.Errorf(errs.NotFound, "note %d not found", noteID)
		}
		if err != nil {
			return fmt.Errorf("read note %d: %w", noteID, err)
		}
		if err := seeRep(ctx, tx, u, repID); err != nil {
			return errs.Errorf(errs.NotFound, "note %d not found", noteID)
		}
		var current int
		var deleted bool
		if err := tx.QueryRow(ctx, `SELECT version, deleted_at IS NOT NULL FROM notes WHERE id = $1 FOR UPDATE`, noteID).
			Scan(&current, &deleted); err != nil {
			return fmt.Errorf("lock note %d: %w", noteID, err)
		}
		switch {
		case authorID != u.ID && u.Role != RoleAdmin:
			return errs.Errorf(errs.Forbidden, "only the note's author or an admin may change it")
		case deleted:
			return errs.Errorf(errs.Conflict, "the note was deleted meanwhile")
		case current != version:
			return errs.Errorf(errs.Conflict, "the note was changed meanwhile (it is at version %d, you edited version %d): reload it and try again", current, version)
		}
		now := s.Now()
		if err := change(tx, repID, now); err != nil {
			return err
		}
		return appendRepFacts(ctx, tx, now, repID)
	})
}

func noteRevision(ctx context.Context, tx pgx.Tx, noteID int64, version int, action, body string, tags []string, userID int64, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO note_revisions (note_id, version, action, body, tags, user_id, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, noteID, version, action, body, tags, userID, at)
	if err != nil {
		return fmt.Errorf("record version %d of note %d: %w", version, noteID, err)
	}
	return nil
}

// syncMentions makes the note's mentions those of names that resolve to a
// user who may see the rep; it returns the names that did not, with why.
func (s *Store) syncMentions(ctx context.Context, tx pgx.Tx, orgID, repID, noteID int64, names []string, now time.Time) ([]string, error) {
	var users []Mentionable
	if len(names) > 0 {
		rows, err := tx.Query(ctx, `
			SELECT u.id, u.name, u.email, u.role = 'manager' AND NOT EXISTS (
				SELECT FROM team_managers m JOIN reps r ON r.team_id = m.team_id WHERE m.user_id = u.id AND r.id = $2)
			FROM users u WHERE u.org_id = $1 ORDER BY u.id`, orgID, repID)
		if err != nil {
			return nil, fmt.Errorf("read who may be mentioned: %w", err)
		}
		users, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Mentionable, error) {
			var m Mentionable
			var outside bool
			err := r.Scan(&m.ID, &m.Name, &m.Email, &outside)
			m.CannotSee = outside
			return m, err
		})
		if err != nil {
			return nil, fmt.Errorf("read who may be mentioned: %w", err)
		}
	}
	ids, unnotified := ResolveMentions(names, users)
	if _, err := tx.Exec(ctx, `DELETE FROM note_mentions WHERE note_id = $1 AND user_id <> ALL($2)`, noteID, ids); err != nil {
		return nil, fmt.Errorf("update the note's mentions: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO note_mentions (note_id, user_id, mentioned_at)
		SELECT $1, unnest($2::bigint[]), $3 ON CONFLICT DO NOTHING`, noteID, ids, now); err != nil {
		return nil, fmt.Errorf("update the note's mentions: %w", err)
	}
	return unnotified, nil
}

// Mentionable is a user as a mention may name them.
type Mentionable struct {
	ID          int64
	Name, Email string
	CannotSee   bool // a manager of another team than the rep's
}

// ResolveMentions finds the users the mentions name: by their email
// address's local part or their whole name written without spaces or with
// dots, dashes or underscores for them ("@tess.taylor"), else by their first
// name when one user alone has it ("@tess"). It returns the ids of those who
// may see the rep, each once, and for every other mention why it reached
// no one.
func ResolveMentions(mentions []string, users []Mentionable) (ids []int64, unnotified []string) {
	for _, m := range mentions {
		var exact, first []Mentionable
		for _, u := range users {
			local, _, _ := strings.Cut(strings.ToLower(u.Email), "@")
			words := strings.Fields(strings.ToLower(u.Name))
			joined := false
			for _, sep := range []string{"", ".", "-", "_"} {
				joined = joined || strings.Join(words, sep) == m
			}
			switch {
			case local == m || joined:
				exact = append(exact, u)
			case len(words) > 0 && words[0] == m:
				first = append(first, u)
			}
		}
		found := exact
		if len(found) == 0 {
			found = first
		}
		switch {
		case len(found) == 0:
			unnotified = append(unnotified, "@"+m+": no one in the organisation goes by that name")
		case len(found) > 1 && len(exact) == 0:
			unnotified = append(unnotified, "@"+m+": several people have that first name; use an email address's name, such as @"+localPart(found[0].Email))
		default:
			for _, u := range found {
				if u.CannotSee {
					unnotified = append(unnotified, "@"+m+": "+u.Name+" cannot see this rep")
				} else if !slices.Contains(ids, u.ID) {
					ids = append(ids, u.ID)
				}
			}
		}
	}
	if ids == nil {
		ids = []int64{}
	}
	return ids, unnotified
}

func localPart(email string) string {
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	return local
}

const noteColumns = `n.id, n.rep_id, n.author_id, a.name, n.body, n.tags, n.version, n.created_at, n.updated_at, n.deleted_at IS NOT NULL`

func scanNote(r pgx.Row) (Note, error) {
	var n Note
	err := r.Scan(&n.ID, &n.RepID, &n.AuthorID, &n.Author, &n.Body, &n.Tags, &n.Version, &n.CreatedAt, &n.UpdatedAt, &n.Deleted)
	return n, err
}

func readNote(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id int64) (Note, error) {
	n, err := scanNote(q.QueryRow(ctx, `SELECT `+noteColumns+` FROM notes n JOIN users a ON a.id = n.author_id WHERE n.id = $1`, id))
	if err != nil {
		return Note{}, dbError(err, fmt.Sprintf("note %d", id))
	}
	return n, nil
}

func (s *Store) note(ctx context.Context, id int64) (Note, error) { return readNote(ctx, s.pool, id) }

// RepNotes lists the notes on a rep that u may see, newest first, deleted
// ones too (their text as it was, for the record), each with its history.
func (s *Store) RepNotes(ctx context.Context, u User, repID int64) ([]Note, error) {
	var notes []Note
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := seeRepReadOnly(ctx, tx, u, repID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+noteColumns+` FROM notes n JOIN users a ON a.id = n.author_id
			WHERE n.rep_id = $1 AND n.org_id = $2 ORDER BY n.id DESC LIMIT 500`, repID, u.OrgID)
		if err != nil {
			return fmt.Errorf("read the notes on rep %d: %w", repID, err)
		}
		if notes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Note, error) { return scanNote(r) }); err != nil {
			return fmt.Errorf("read the notes on rep %d: %w", repID, err)
		}
		rows, err = tx.Query(ctx, `
			SELECT v.note_id, v.version, v.action, v.body, u.name, v.at
			FROM note_revisions v JOIN notes n ON n.id = v.note_id JOIN users u ON u.id = v.user_id
			WHERE n.rep_id = $1 AND n.org_id = $2 ORDER BY v.note_id, v.version`, repID, u.OrgID)
		if err != nil {
			return fmt.Errorf("read the notes' history: %w", err)
		}
		byNote := map[int64][]NoteRevision{}
		var noteID int64
		var rev NoteRevision
		if _, err := pgx.ForEachRow(rows, []any{&noteID, &rev.Version, &rev.Action, &rev.Body, &rev.By, &rev.At}, func() error {
			byNote[noteID] = append(byNote[noteID], rev)
			return nil
		}); err != nil {
			return fmt.Errorf("read the notes' history: %w", err)
		}
		for i := range notes {
			notes[i].History = byNote[notes[i].ID]
		}
		return nil
	})
	return notes, err
}

// seeRepReadOnly is seeRep without the lock.
func seeRepReadOnly(ctx context.Context, tx pgx.Tx, u User, repID int64) error {
	var ok bool
	err := tx.QueryRow(ctx, `
		SELECT EXISTS (SELECT FROM reps r WHERE r.id = $1 AND r.org_id = $2 AND ($3 <> 'manager'
			OR EXISTS (SELECT FROM team_managers m WHERE m.team_id = r.team_id AND m.user_id = $4)))`,
		repID, u.OrgID, string(u.Role), u.ID).Scan(&ok)
	if err != nil {
		return fmt.Errorf("read rep %d: %w", repID, err)
	}
	if !ok {
		return errs.Errorf(errs.NotFound, "rep %d not found", repID)
	}
	return nil
}

// TagCount is a tag and the number of live notes that carry it.
type TagCount struct {
	Tag   string
	Notes int
}

// Tags lists the organisation's tags that start with prefix (any case; ""
// for all), most used first, then by name: the suggestions while a note is
// written, and the tags the rep table filters by. limit bounds the list.
func (s *Store) Tags(ctx context.Context, orgID int64, prefix string, limit int) ([]TagCount, error) {
	prefix = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(prefix), "#"))
	if utf8.RuneCountInString(prefix) > NoteTagMax {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT t, count(*) FROM notes, unnest(tags) t
		WHERE org_id = $1 AND deleted_at IS NULL AND starts_with(t, $2)
		GROUP BY t ORDER BY count(*) DESC, t LIMIT $3`, orgID, prefix, limit)
	if err != nil {
		return nil, fmt.Errorf("read the organisation's tags: %w", err)
	}
	tags, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TagCount, error) {
		var t TagCount
		return t, r.Scan(&t.Tag, &t.Notes)
	})
	if err != nil {
		return nil, fmt.Errorf("read the organisation's tags: %w", err)
	}
	return tags, nil
}

// Mention is a live note that mentions a user, as their mentions list shows it.
type Mention struct {
	Note
	RepName string
	Seen    bool
}

// Mentions lists the live notes that mention u on reps they may see, newest
// first, at most limit, and marks them seen (the list shows which were new).
func (s *Store) Mentions(ctx context.Context, u User, limit int) ([]Mention, error) {
	var out []Mention
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT `+noteColumns+`, r.name, x.seen_at IS NOT NULL
			FROM note_mentions x JOIN notes n ON n.id = x.note_id JOIN users a ON a.id = n.author_id JOIN reps r ON r.id = n.rep_id
			WHERE x.user_id = $1 AND n.org_id = $2 AND n.deleted_at IS NULL AND ($3 <> 'manager'
				OR EXISTS (SELECT FROM team_managers m WHERE m.team_id = r.team_id AND m.user_id = $1))
			ORDER BY x.mentioned_at DESC, n.id DESC LIMIT $4`, u.ID, u.OrgID, string(u.Role), limit)
		if err != nil {
			return fmt.Errorf("read the mentions: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Mention, error) {
			var m Mention
			err := r.Scan(&m.ID, &m.RepID, &m.AuthorID, &m.Author, &m.Body, &m.Tags, &m.Version, &m.CreatedAt, &m.UpdatedAt,
				&m.Deleted, &m.RepName, &m.Seen)
			return m, err
		})
		if err != nil {
			return fmt.Errorf("read the mentions: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE note_mentions SET seen_at = $2 WHERE user_id = $1 AND seen_at IS NULL`, u.ID, s.Now())
		return err
	})
	return out, err
}

// UnseenMentions counts the live notes mentioning u that their mentions list
// has not shown them yet.
func (s *Store) UnseenMentions(ctx context.Context, u User) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FROM note_mentions x JOIN notes n ON n.id = x.note_id JOIN reps r ON r.id = n.rep_id
		WHERE x.user_id = $1 AND x.seen_at IS NULL AND n.deleted_at IS NULL AND ($2 <> 'manager'
			OR EXISTS (SELECT FROM team_managers m WHERE m.team_id = r.team_id AND m.user_id = $1))`, u.ID, string(u.Role)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the unseen mentions: %w", err)
	}
	return n, nil
}

// NoteRep returns the rep a note is on, if u may see them; else NotFound.
func (s *Store) NoteRep(ctx context.Context, u User, noteID int64) (int64, error) {
	var repID int64
	err := s.pool.QueryRow(ctx, `
		SELECT n.rep_id FROM notes n JOIN reps r ON r.id = n.rep_id
		WHERE n.id = $1 AND n.org_id = $2 AND ($3 <> 'manager'
			OR EXISTS (SELECT FROM team_managers m WHERE m.team_id = r.team_id AND m.user_id = $4))`,
		noteID, u.OrgID, string(u.Role), u.ID).Scan(&repID)
	if noRows(err) {
		return 0, errs.Errorf(errs.NotFound, "note %d not found", noteID)
	}
	if err != nil {
		return 0, fmt.Errorf("read note %d: %w", noteID, err)
	}
	return repID, nil
}
