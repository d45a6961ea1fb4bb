package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/morselhq/morsel/web/pages"
)

// staticFiles are the files the server ships with: web/static, such as the
// demo lesson video under media/.
//
//go:embed static
var staticFiles embed.FS

// mediaFS is web/static/media, served under /media/.
var mediaFS = func() fs.FS {
	sub, err := fs.Sub(staticFiles, "static/media")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	return sub
}()

// mediaTypes names the media we ship whose type Go's own table lacks (it
// knows no video); anything else falls back to mime.TypeByExtension.
var mediaTypes = map[string]string{
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".webm": "video/webm",
	".vtt":  "text/vtt; charset=utf-8",
	".jpg":  "image/jpeg",
	".png":  "image/png",
}

// mediaETags holds a strong ETag per media file, from its content: embedded
// files have no modification time, and a validator lets browsers revalidate
// and resume (If-Range) a video.
var mediaETags = sync.OnceValue(func() map[string]string {
	tags := map[string]string{}
	_ = fs.WalkDir(mediaFS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(mediaFS, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		tags[name] = `"` + hex.EncodeToString(sum[:12]) + `"`
		return nil
	})
	return tags
})

// mediaMaxAge is how long browsers and proxies may keep a media file.
const mediaMaxAge = "public, max-age=86400"

// media answers GET /media/{file}: a file of web/static/media, with Range
// requests (a video player seeks), conditional requests and a day's caching.
func (s *Server) media(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	info, err := fs.Stat(mediaFS, name)
	if !fs.ValidPath(name) || strings.Contains(name, "/") || err != nil || info.IsDir() {
		s.render(w, r, http.StatusNotFound, pages.NotFound(r.URL.Path))
		return
	}
	ext := strings.ToLower(path.Ext(name))
	ctype, ok := mediaTypes[ext]
	if !ok {
		ctype = mime.TypeByExtension(ext)
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", mediaMaxAge)
	h.Set("X-Content-Type-Options", "nosniff")
	if tag, ok := mediaETags()[name]; ok {
		h.Set("ETag", tag)
	}
	http.ServeFileFS(w, r, mediaFS, name)
}

// asset is a script served under /static/ by a name with its content's
// hash, so that it can be cached for a year and never go stale.
type asset struct {
	url  string
	body []byte
	sum  string // sha256, hex
}

func newAsset(file, name, ext string) asset {
	body, err := staticFiles.ReadFile("static/" + file)
	if err != nil {
		panic(err) // the embed directive guarantees the file
	}
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	return asset{url: "/static/" + name + "-" + h[:12] + ext, body: body, sum: h}
}

// htmxAsset is htmx, from npm at the version `make htmx` pins.
var htmxAsset = newAsset("vendor/htmx.min.js", "htmx", ".min.js")

// staticAsset answers GET /static/{file}.
func (s *Server) staticAsset(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != htmxAsset.url {
		s.render(w, r, http.StatusNotFound, pages.NotFound(r.URL.Path))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(htmxAsset.body)
}
