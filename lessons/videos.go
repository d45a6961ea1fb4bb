package lessons

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/lessons/video"
)

// Video is an uploaded video file.
type Video struct {
	Name      string  // the file's name: its content's hash and .mp4
	Bytes     int64   // its size
	Seconds   float64 // its length, from the file's movie header
	CreatedAt time.Time
}

// URL is where the app serves the video.
func (v Video) URL() string { return "/videos/" + v.Name }

// SaveVideo stores an MP4 file for the organisation, read from r to its end,
// and reads its length from it; r must be bounded by the caller. A file that
// is not an MP4 Morsel can read is Invalid, with the reason, and nothing is
// stored. The same file stored again is the same video.
func (s *Store) SaveVideo(ctx context.Context, orgID int64, r io.Reader) (Video, error) {
	var v Video
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		los := tx.LargeObjects()
		oid, err := los.Create(ctx, 0)
		if err != nil {
			return fmt.Errorf("create the video's large object: %w", err)
		}
		obj, err := los.Open(ctx, oid, pgx.LargeObjectModeWrite)
		if err != nil {
			return fmt.Errorf("open the video's large object: %w", err)
		}
		hash := sha256.New()
		counted := &countingWriter{}
		v.Seconds, err = video.Duration(io.TeeReader(r, io.MultiWriter(obj, hash, counted)))
		if errors.Is(err, video.ErrNotMP4) {
			return errs.InvalidInput("The file is not a video Morsel can read.", []errs.Detail{{Path: "video_file",
				Message: err.Error() + "; upload an MP4 (H.264) file"}})
		}
		if err != nil {
			return fmt.Errorf("read the video: %w", err)
		}
		if err := obj.Close(); err != nil {
			return fmt.Errorf("store the video: %w", err)
		}
		v.Name, v.Bytes, v.CreatedAt = hex.EncodeToString(hash.Sum(nil))[:32]+".mp4", counted.n, s.Now()
		tag, err := tx.Exec(ctx, `INSERT INTO videos (org_id, name, content, bytes, seconds, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`, orgID, v.Name, oid, v.Bytes, v.Seconds, v.CreatedAt)
		if err != nil {
			return dbError(err, "video")
		}
		if tag.RowsAffected() == 0 { // stored before: keep that copy
			return los.Unlink(ctx, oid)
		}
		return nil
	})
	if err != nil {
		return Video{}, err
	}
	return v, nil
}

// CopyVideo writes a stored video, by name, to w. NotFound when there is
// no such video. A large object is read inside a transaction, which holds a
// connection: copy to local storage, then serve from there.
func (s *Store) CopyVideo(ctx context.Context, name string, w io.Writer) (Video, error) {
	var v Video
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var oid uint32
		err := tx.QueryRow(ctx, `SELECT name, content, bytes, seconds, created_at FROM videos WHERE name = $1`, name).
			Scan(&v.Name, &oid, &v.Bytes, &v.Seconds, &v.CreatedAt)
		if err != nil {
			return dbError(err, "video "+name)
		}
		los := tx.LargeObjects()
		obj, err := los.Open(ctx, oid, pgx.LargeObjectModeRead)
		if err != nil {
			return fmt.Errorf("open video %s: %w", name, err)
		}
		defer obj.Close()
		if _, err := io.Copy(w, obj); err != nil {
			return fmt.Errorf("copy video %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return Video{}, err
	}
	return v, nil
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
