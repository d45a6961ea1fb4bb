package video_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons/video"
)

// box is an MP4 box with a 32-bit size.
func box(kind string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(b)))
	return append(append(out, kind...), b...)
}

// bigBox is an MP4 box with a 64-bit size.
func bigBox(kind string, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, 1)
	out = append(out, kind...)
	out = binary.BigEndian.AppendUint64(out, uint64(16+len(body)))
	return append(out, body...)
}

func mvhd0(timescale, duration uint32) []byte {
	b := make([]byte, 100)
	binary.BigEndian.PutUint32(b[12:], timescale)
	binary.BigEndian.PutUint32(b[16:], duration)
	return box("mvhd", b)
}

func mvhd1(timescale uint32, duration uint64) []byte {
	b := make([]byte, 112)
	b[0] = 1
	binary.BigEndian.PutUint32(b[20:], timescale)
	binary.BigEndian.PutUint64(b[24:], duration)
	return box("mvhd", b)
}

var ftyp = box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41"))

func TestDuration(t *testing.T) {
	t.Parallel()
	mdat := box("mdat", bytes.Repeat([]byte{7}, 300_000))
	tests := []struct {
		name string
		file []byte
		want float64
		err  string // in the error, which wraps ErrNotMP4
	}{
		{"movie box after the media", bytes.Join([][]byte{ftyp, mdat, box("moov", mvhd0(1000, 62_500))}, nil), 62.5, ""},
		{"movie box first (fast start)", bytes.Join([][]byte{ftyp, box("moov", box("iods", make([]byte, 16)), mvhd0(600, 6000)), mdat}, nil), 10, ""},
		{"version 1 header, 64-bit box", bytes.Join([][]byte{ftyp, bigBox("mdat", make([]byte, 10)), box("moov", mvhd1(90000, 90000*95))}, nil), 95, ""},
		{"media to the end of the file", bytes.Join([][]byte{ftyp, box("moov", mvhd0(1, 30)), {0, 0, 0, 0, 'm', 'd', 'a', 't', 1, 2, 3}}, nil), 30, ""},
		{"not an MP4", []byte("<html>not a video</html>"), 0, `it does not start with an ftyp box (found "l>no")`},
		{"empty", nil, 0, "the file ends inside a box header"},
		{"no movie header", bytes.Join([][]byte{ftyp, mdat}, nil), 0, "it has no movie header"},
		{"cut short", bytes.Join([][]byte{ftyp, mdat[:1000]}, nil), 0, "the file is cut short"},
		{"no time scale", bytes.Join([][]byte{ftyp, box("moov", mvhd0(0, 10))}, nil), 0, "time scale is 0"},
		{"no duration", bytes.Join([][]byte{ftyp, box("moov", mvhd0(1000, 0))}, nil), 0, "gives no duration"},
		{"a box smaller than its header", bytes.Join([][]byte{ftyp, {0, 0, 0, 3, 'f', 'r', 'e', 'e'}}, nil), 0, "less than its header"},
		{"a child larger than the movie box", bytes.Join([][]byte{ftyp, box("moov", []byte{0, 0, 1, 0, 'm', 'v', 'h', 'd'})}, nil), 0, "inside the movie box"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := video.Duration(bytes.NewReader(tt.file))
			if tt.err != "" {
				require.ErrorIs(t, err, video.ErrNotMP4)
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.InDelta(t, tt.want, got, 1e-9)
		})
	}
}

// The demo video's length is what the demo courses say it is.
func TestDurationOfTheDemoVideo(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("..", "..", "web", "static", "media", "demo.mp4"))
	require.NoError(t, err)
	defer f.Close()
	got, err := video.Duration(f)
	require.NoError(t, err)
	require.InDelta(t, 62, got, 1, "demodata's courses give it as 62 s")
}

func FuzzDuration(f *testing.F) {
	f.Add(bytes.Join([][]byte{ftyp, box("moov", mvhd0(1000, 62_500))}, nil))
	f.Add(bytes.Join([][]byte{ftyp, bigBox("mdat", make([]byte, 10)), box("moov", mvhd1(9, 90))}, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, file []byte) {
		got, err := video.Duration(bytes.NewReader(file))
		if err != nil {
			require.True(t, errors.Is(err, video.ErrNotMP4), "a bytes.Reader fails only as a file: %v", err)
			return
		}
		require.Greater(t, got, 0.0)
	})
}
