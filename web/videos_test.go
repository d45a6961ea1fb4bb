package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/video"
)

func TestVideoUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	rival := sessionOf(t, b, newUser(t, b, b.other.ID, lessons.RoleAdmin, "tom@globex.test", "correct horse 2"))
	sample, err := os.ReadFile(filepath.Join("..", "lessons", "testdata", "course-sample.json"))
	require.NoError(t, err)
	courseID, base := importCourse(t, b, trainer, sample)
	lesson := func(key string) lessons.Lesson {
		_, versions, err := b.store.CourseVersions(ctx, b.org.ID, courseID)
		require.NoError(t, err)
		for _, l := range versions[0].Spec.Lessons {
			if l.Key == key {
				return l
			}
		}
		t.Fatalf("no lesson %s", key)
		return lessons.Lesson{}
	}
	objects := func() int {
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM pg_largeobject_metadata`).Scan(&n))
		return n
	}
	demo, err := os.ReadFile(filepath.Join("static", "media", "demo.mp4"))
	require.NoError(t, err)
	seconds, err := video.Duration(bytes.NewReader(demo))
	require.NoError(t, err)
	before := lesson("tiers-video")

	// Refused: nothing stored, the lesson as it was.
	tests := []struct {
		name, path, session string
		file                []byte
		status              int
		problem             string
	}{
		{"not a video", base + "/lessons/tiers-video/video", trainer, []byte("<html>hello</html>"), http.StatusUnprocessableEntity, "not an MP4 video: it does not start with an ftyp box"},
		{"too large", base + "/lessons/tiers-video/video", trainer, append(bytes.Clone(demo), freeBox(51<<20)...), http.StatusUnprocessableEntity, "is larger than 50 MiB"},
		{"a text lesson", base + "/lessons/intro/video", trainer, demo, http.StatusUnprocessableEntity, "video_file: this is a text lesson"},
		{"another organisation", base + "/lessons/tiers-video/video", rival, demo, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		res := uploadFile(t, b.server, tt.path, tt.session, "v.mp4", tt.file)
		require.Equal(t, tt.status, res.status, tt.name)
		require.Contains(t, string(res.body), tt.problem, tt.name)
		if tt.status == http.StatusUnprocessableEntity {
			require.Contains(t, string(res.body), `data-problem="video_file"`, tt.name)
		}
		require.Equal(t, before, lesson("tiers-video"), tt.name)
		require.Zero(t, objects(), tt.name)
	}

	// Stored: the lesson's URL and length from the file; served with ranges.
	res := uploadFile(t, b.server, base+"/lessons/tiers-video/video", trainer, "demo.mp4", demo)
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	l := lesson("tiers-video")
	require.Regexp(t, `^/videos/[0-9a-f]{32}\.mp4$`, l.VideoURL)
	require.Equal(t, int(math.Ceil(seconds)), l.VideoSeconds)
	require.Equal(t, http.StatusSeeOther, uploadFile(t, b.server, base+"/lessons/tiers-video/video", trainer, "again.mp4", demo).status)
	require.Equal(t, 1, objects(), "the same file is stored once")

	get := func(path string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		b.server.Handler().ServeHTTP(rec, req)
		return rec
	}
	rec := get(l.VideoURL)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "video/mp4", rec.Header().Get("Content-Type"))
	require.True(t, bytes.Equal(demo, rec.Body.Bytes()), "the file as uploaded")
	rec = get(l.VideoURL, "Range", "bytes=100-199")
	require.Equal(t, http.StatusPartialContent, rec.Code)
	require.Equal(t, demo[100:200], rec.Body.Bytes())
	for _, path := range []string{"/videos/00000000000000000000000000000000.mp4", "/videos/x.mp4"} {
		require.Equal(t, http.StatusNotFound, get(path).Code, path)
	}
	require.Regexp(t, regexp.MustCompile(`data-testid="video-upload"`), string(servePage(b.server, "GET", base+"/lessons/tiers-video", trainer, nil).body))
}

// freeBox is an MP4 "free" box of n bytes of padding.
func freeBox(n int) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+n))
	return append(append(b, "free"...), make([]byte, n)...)
}

// The lesson page as a rep sees it, from the editor: each kind, no forms,
// no tracking, and not for another organisation.
func TestLessonPagePreview(t *testing.T) {
	t.Parallel()
	b := setup(t)
	trainer := sessionOf(t, b, newUser(t, b, b.org.ID, lessons.RoleTrainer, "tess@acme.test", "correct horse 1"))
	rival := sessionOf(t, b, newUser(t, b, b.other.ID, lessons.RoleAdmin, "tom@globex.test", "correct horse 2"))
	sample, err := os.ReadFile(filepath.Join("..", "lessons", "testdata", "course-sample.json"))
	require.NoError(t, err)
	_, base := importCourse(t, b, trainer, sample)
	tests := []struct {
		key  string
		want []string
	}{
		{"intro", []string{`data-kind="text"`, "step 1 of 10"}},
		{"tiers-video", []string{`data-kind="video"`, "<video", "step 3 of 10"}},
		{"quiz-1", []string{`data-kind="quiz"`, `data-testid="question-prompt"`}},
	}
	for _, tt := range tests {
		res := servePage(b.server, "GET", base+"/lessons/"+tt.key+"/page", trainer, nil)
		require.Equal(t, http.StatusOK, res.status, tt.key)
		body := string(res.body)
		require.Contains(t, body, `data-testid="lesson-preview"`, tt.key)
		for _, w := range tt.want {
			require.Contains(t, body, w, tt.key)
		}
		for _, never := range []string{"<form", "/t/pings"} {
			require.NotContains(t, body, never, "%s: nothing to post, nothing recorded", tt.key)
		}
		require.Equal(t, http.StatusNotFound, servePage(b.server, "GET", base+"/lessons/"+tt.key+"/page", rival, nil).status, tt.key)
	}
	editor := string(servePage(b.server, "GET", base+"/lessons/intro", trainer, nil).body)
	require.Contains(t, editor, `<iframe src="`+base+`/lessons/intro/page"`)
}
