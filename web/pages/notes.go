package pages

import (
	"strconv"

	"github.com/morselhq/morsel/lessons"
)

// Notes is the notes section of a rep's page: the notes, newest first, and
// the form to write one, with what went wrong with the last attempt.
type Notes struct {
	RepID  int64
	Notes  []lessons.Note
	UserID int64 // the viewer, who may change their own notes
	Admin  bool  // who may change anyone's
	Form   NoteForm
	Hidden bool // the user may not note this rep: no section
}

// NoteForm is the state of a note being written (Editing 0) or edited.
type NoteForm struct {
	Editing    int64    // the note being edited; 0: a new note
	Text       string   // what was typed, kept when it could not be saved
	Problem    string   // why it was not saved; "": it was, or nothing was sent
	Details    []string // each thing wrong with it
	Unnotified []string // mentions that reached no one, the note saved
}

// MayChange says whether the viewer may edit or delete the note.
func (n Notes) MayChange(note lessons.Note) bool {
	return !note.Deleted && (note.AuthorID == n.UserID || n.Admin)
}

// textOf is what an edit form of the note shows: the text the user typed
// if this is the note they were editing, else the note's.
func (n Notes) textOf(note lessons.Note) string {
	if n.Form.Editing == note.ID && n.Form.Problem != "" {
		return n.Form.Text
	}
	return note.Body
}

func noteURL(id int64, action string) string {
	return "/dashboard/notes/" + strconv.FormatInt(id, 10) + "/" + action
}

func repNotesURL(repID int64) string {
	return "/dashboard/reps/" + strconv.FormatInt(repID, 10) + "/notes"
}

// MentionsPage is /mentions: the notes that mention the user.
type MentionsPage struct {
	Dash
	Mentions []lessons.Mention
}

// tagFilterURL is the rep table filtered to the reps with the tag.
func tagFilterURL(tag string) string { return RepsState{Tags: []string{tag}}.URL() }
