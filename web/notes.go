package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking/reports"
	"github.com/morselhq/morsel/web/pages"
)

// Notes on reps, from the rep's page: written, edited and deleted by anyone
// who sees the rep (lessons decides who may change which), the organisation's
// tags suggested as they are typed, and each user's mentions.

// maxNoteForm bounds a note form's body: the text (lessons.NoteMaxRunes
// characters of up to 4 bytes, form-encoded) and a version.
const maxNoteForm = 32 << 10

// noteForm reads a posted note form's text and, when it has one, version.
func noteForm(w http.ResponseWriter, r *http.Request, withVersion bool) (body string, version int, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxNoteForm)
	if err := r.ParseForm(); err != nil {
		return "", 0, errs.InvalidInput("The note could not be read.", []errs.Detail{{Path: "body",
			Message: fmt.Sprintf("the form is over %d KiB or malformed", maxNoteForm>>10)}})
	}
	if withVersion {
		v := r.PostForm.Get("version")
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			return "", 0, errs.InvalidInput("The note could not be read.", []errs.Detail{{Path: "version",
				Message: fmt.Sprintf("%q is not a note's version: reload the page", v)}})
		}
	}
	return r.PostForm.Get("body"), version, nil
}

// noteProblem turns an error the user can fix into the note form's state; ok is
// false for any other error.
func noteProblem(err error, text string, editing int64) (pages.NoteForm, int, bool) {
	e := errs.As(err)
	if e == nil || (e.Code != errs.Invalid && e.Code != errs.Conflict && e.Code != errs.Forbidden) {
		return pages.NoteForm{}, 0, false
	}
	f := pages.NoteForm{Editing: editing, Text: text, Problem: e.Message}
	for _, d := range e.Details {
		f.Details = append(f.Details, d.String())
	}
	status := map[errs.Code]int{errs.Invalid: http.StatusBadRequest, errs.Conflict: http.StatusConflict, errs.Forbidden: http.StatusForbidden}[e.Code]
	return f, status, true
}

// addNote answers POST /dashboard/reps/{id}/notes: back to the rep's notes,
// or the page again with the text kept and what is wrong with it.
func (s *Server) addNote(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return reports.ErrNotFound
	}
	body, _, err := noteForm(w, r, false)
	var saved lessons.NoteSaved
	if err == nil {
		saved, err = s.store.AddNote(ctx, v.user, id, body)
	}
	return s.afterNote(ctx, w, r, v, rep, id, 0, body, saved, err)
}

// changeNote answers POST /dashboard/notes/{id}/edit and /delete.
func (s *Server) changeNote(del bool) func(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports) error {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			return reports.ErrNotFound
		}
		body, version, err := noteForm(w, r, true)
		if err != nil {
			return err
		}
		repID, err := s.store.NoteRep(ctx, v.user, id)
		if err != nil {
			return err
		}
		var saved lessons.NoteSaved
		if del {
			if err = s.store.DeleteNote(ctx, v.user, id, version); err == nil {
				http.Redirect(w, r, fmt.Sprintf("/dashboard/reps/%d?notice=note-deleted#notes", repID), http.StatusSeeOther)
				return nil
			}
		} else {
			saved, err = s.store.EditNote(ctx, v.user, id, version, body)
		}
		return s.afterNote(ctx, w, r, v, rep, repID, id, body, saved, err)
	}
}

// afterNote answers a note's write: back to the rep's notes when it was
// saved and every mention reached someone; else the rep's page, saying what
// is wrong or who was not told.
func (s *Server) afterNote(ctx context.Context, w http.ResponseWriter, r *http.Request, v viewer, rep *reports.Reports,
	repID, editing int64, body string, saved lessons.NoteSaved, err error) error {
	if err != nil {
		form, status, ok := noteProblem(err, body, editing)
		if !ok {
			return err
		}
		return s.renderRep(ctx, w, r, v, rep, repID, form, status)
	}
	if len(saved.Unnotified) > 0 {
		return s.renderRep(ctx, w, r, v, rep, repID, pages.NoteForm{Unnotified: saved.Unnotified}, http.StatusOK)
	}
	http.Redirect(w, r, fmt.Sprintf("/dashboard/reps/%d?notice=note-saved#notes", repID), http.StatusSeeOther)
	return nil
}

// maxTagSuggestions is how many tags a suggestion lists.
const maxTagSuggestions = 8

// tagSuggestions answers GET /dashboard/tags?q=: the organisation's tags that
// start with q, most used first, as JSON {"tags": [{"tag", "notes"}]}.
func (s *Server) tagSuggestions(w http.ResponseWriter, r *http.Request, u lessons.User) {
	q := r.URL.Query().Get("q")
	if len(q) > 4*lessons.NoteTagMax {
		s.writeAPIError(w, r, errs.InvalidInput("The tag is too long.", []errs.Detail{{Path: "q",
			Message: fmt.Sprintf("a tag has at most %d characters", lessons.NoteTagMax)}}))
		return
	}
	tags, err := s.store.Tags(r.Context(), u.OrgID, q, maxTagSuggestions)
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	type tag struct {
		Tag   string `json:"tag"`
		Notes int    `json:"notes"`
	}
	out := struct {
		Tags []tag `json:"tags"`
	}{Tags: []tag{}}
	for _, t := range tags {
		out.Tags = append(out.Tags, tag{t.Tag, t.Notes})
	}
	writeJSON(w, http.StatusOK, out)
}

// maxMentions is how many mentions the list shows.
const maxMentions = 200

// mentionsPage answers GET /mentions: the notes that mention the user, which
// it marks seen.
func (s *Server) mentionsPage(w http.ResponseWriter, r *http.Request, u lessons.User) {
	ctx := r.Context()
	ms, err := s.store.Mentions(ctx, u, maxMentions)
	var v viewer
	if err == nil {
		v, err = s.viewerOf(ctx, u)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := s.dash(v, "Mentions", "mentions")
	s.render(w, r, http.StatusOK, pages.Mentions(pages.MentionsPage{Dash: d, Mentions: ms}))
}
