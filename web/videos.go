package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/web/pages"
)

// videoUploadMax bounds an uploaded video: microlearning videos are short.
const videoUploadMax = 50 << 20

// videoName is how stored videos are named: their content's hash.
var videoName = regexp.MustCompile(`^[0-9a-f]{32}\.mp4$`)

// uploadVideo answers POST /courses/{id}/lessons/{key}/video: an MP4 file,
// streamed into Postgres with its length read from it, becomes the video
// lesson's video. A file that is not an MP4, or too large, is refused with
// the lesson form and nothing changes.
func (s *Server) uploadVideo(w http.ResponseWriter, r *http.Request, u lessons.User) {
	s.allowUpload(w)
	r.Body = http.MaxBytesReader(w, r.Body, videoUploadMax+64<<10)
	e, i, ok := s.editableLesson(w, r, u)
	if !ok {
		return
	}
	l := e.version.Spec.Lessons[i]
	refuse := func(err error) {
		if ae := errs.As(err); ae != nil && ae.Code == errs.Invalid {
			s.render(w, r, http.StatusUnprocessableEntity, pages.LessonEditor(s.lessonPageOf(u, e, i, formOf(l), ae.Details)))
			return
		}
		s.pageError(w, r, err)
	}
	if l.Kind != lessons.KindVideo {
		refuse(errs.InvalidInput("Only a video lesson takes a video file.", []errs.Detail{{Path: "video_file", Message: "this is a " + string(l.Kind) + " lesson"}}))
		return
	}
	v, err := s.receiveVideo(r, u.OrgID)
	if err != nil {
		refuse(err)
		return
	}
	spec, err := editSpec(e.version.Spec, func(f map[string]any) {
		ls, _ := f["lessons"].([]any)
		lesson, _ := ls[i].(map[string]any)
		lesson["video_url"] = v.URL()
		lesson["video_seconds"] = json.Number(strconv.Itoa(int(math.Ceil(v.Seconds))))
	})
	if err == nil {
		_, err = s.store.SaveDraft(r.Context(), u.OrgID, e.course.ID, spec)
	}
	if err != nil {
		refuse(err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/courses/%d/lessons/%s", e.course.ID, l.Key), http.StatusSeeOther)
}

// receiveVideo stores the request's file part "file", read as it arrives.
func (s *Server) receiveVideo(r *http.Request, orgID int64) (lessons.Video, error) {
	choose := errs.InvalidInput("Choose an MP4 file to upload.", []errs.Detail{{Path: "video_file", Message: "no file was sent"}})
	mr, err := r.MultipartReader()
	if err != nil {
		return lessons.Video{}, choose
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return lessons.Video{}, choose
		}
		if err != nil {
			return lessons.Video{}, uploadError(err)
		}
		if part.FormName() != "file" {
			continue
		}
		if part.FileName() == "" {
			return lessons.Video{}, choose
		}
		v, err := s.store.SaveVideo(r.Context(), orgID, part)
		return v, uploadError(err)
	}
}

// uploadError names an upload over the bound as such.
func uploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errs.InvalidInput("The file is too large.", []errs.Detail{{Path: "video_file",
			Message: fmt.Sprintf("is larger than %d MiB, the most a lesson's video may be", videoUploadMax>>20)}})
	}
	return err
}

// videoFile answers GET /videos/{name}: a stored video, with range requests
// for seeking. It is copied from Postgres to local storage on first use and
// served from there, so that no database connection waits on a slow phone.
func (s *Server) videoFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !videoName.MatchString(name) {
		s.render(w, r, http.StatusNotFound, pages.NotFound(r.URL.Path))
		return
	}
	path := filepath.Join(s.videoDir, name)
	if _, err := os.Stat(path); err != nil {
		if err := s.cacheVideo(r, name, path); err != nil {
			if errs.CodeOf(err) == errs.NotFound {
				s.render(w, r, http.StatusNotFound, pages.NotFound(r.URL.Path))
				return
			}
			s.pageError(w, r, err)
			return
		}
	}
	s.allowUpload(w) // a phone on a slow network reads a video for minutes
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", "public, max-age=31536000, immutable") // named by its content
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeFile(w, r, path)
}

// cacheVideo copies a stored video to path, whole or not at all.
func (s *Server) cacheVideo(r *http.Request, name, path string) error {
	if err := os.MkdirAll(s.videoDir, 0o700); err != nil {
		return fmt.Errorf("video cache: %w", err)
	}
	tmp, err := os.CreateTemp(s.videoDir, name+".*")
	if err != nil {
		return fmt.Errorf("video cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is left to remove
	if _, err := s.store.CopyVideo(r.Context(), name, tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("video cache: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}
