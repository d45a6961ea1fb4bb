// Package video reads what Morsel needs to know of an uploaded video file.
package video

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// maxMoov bounds the movie box read into memory: its sample tables grow with
// the length of the video, some 100 KiB for a few minutes.
const maxMoov = 16 << 20

// ErrNotMP4 says the file is not an MP4 (ISO base media) file Morsel can read.
var ErrNotMP4 = errors.New("not an MP4 video")

// Duration reads an MP4 file to its end and returns its length in seconds,
// from the movie header (moov/mvhd). The movie box may come before or after
// the media data; everything else is skipped, not kept. An error wrapping
// ErrNotMP4 says what is wrong with the file; other errors are the reader's.
func Duration(r io.Reader) (float64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var seconds float64
	found, first := false, true
	var header [16]byte
	for {
		if _, err := io.ReadFull(br, header[:8]); err != nil {
			if err == io.EOF && !first {
				break
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return 0, fmt.Errorf("%w: the file ends inside a box header", ErrNotMP4)
			}
			return 0, err
		}
		size, kind := uint64(binary.BigEndian.Uint32(header[:4])), string(header[4:8])
		if first && kind != "ftyp" {
			return 0, fmt.Errorf("%w: it does not start with an ftyp box (found %q)", ErrNotMP4, printable(kind))
		}
		first = false
		head := uint64(8)
		switch size {
		case 0: // to the end of the file
			if kind == "moov" {
				return 0, fmt.Errorf("%w: the movie box has no size", ErrNotMP4)
			}
			if _, err := io.Copy(io.Discard, br); err != nil {
				return 0, err
			}
			size = 0
		case 1: // a 64-bit size follows
			if _, err := io.ReadFull(br, header[8:16]); err != nil {
				return 0, truncated(err)
			}
			size, head = binary.BigEndian.Uint64(header[8:16]), 16
		}
		if size == 0 {
			break
		}
		if size < head {
			return 0, fmt.Errorf("%w: box %q has a size of %d bytes, less than its header", ErrNotMP4, printable(kind), size)
		}
		body := size - head
		if kind != "moov" {
			if _, err := io.CopyN(io.Discard, br, int64(min(body, math.MaxInt64))); err != nil {
				return 0, truncated(err)
			}
			continue
		}
		if body > maxMoov {
			return 0, fmt.Errorf("%w: the movie box is larger than %d MiB", ErrNotMP4, maxMoov>>20)
		}
		moov := make([]byte, body)
		if _, err := io.ReadFull(br, moov); err != nil {
			return 0, truncated(err)
		}
		s, err := mvhdSeconds(moov)
		if err != nil {
			return 0, err
		}
		seconds, found = s, true
	}
	if !found {
		return 0, fmt.Errorf("%w: it has no movie header (moov/mvhd)", ErrNotMP4)
	}
	return seconds, nil
}

// mvhdSeconds finds the movie header among the movie box's children and
// returns duration / timescale.
func mvhdSeconds(moov []byte) (float64, error) {
	for len(moov) >= 8 {
		size, kind := uint64(binary.BigEndian.Uint32(moov[:4])), string(moov[4:8])
		head := uint64(8)
		if size == 1 {
			if len(moov) < 16 {
				break
			}
			size, head = binary.BigEndian.Uint64(moov[8:16]), 16
		}
		if size == 0 {
			size = uint64(len(moov))
		}
		if size < head || size > uint64(len(moov)) {
			return 0, fmt.Errorf("%w: box %q inside the movie box has a size of %d bytes", ErrNotMP4, printable(kind), size)
		}
		if kind == "mvhd" {
			return parseMvhd(moov[head:size])
		}
		moov = moov[size:]
	}
	return 0, fmt.Errorf("%w: it has no movie header (moov/mvhd)", ErrNotMP4)
}

func parseMvhd(b []byte) (float64, error) {
	if len(b) < 4 {
		return 0, fmt.Errorf("%w: the movie header is cut short", ErrNotMP4)
	}
	var timescale uint32
	var duration uint64
	switch version := b[0]; version {
	case 0:
		if len(b) < 20 {
			return 0, fmt.Errorf("%w: the movie header is cut short", ErrNotMP4)
		}
		timescale, duration = binary.BigEndian.Uint32(b[12:16]), uint64(binary.BigEndian.Uint32(b[16:20]))
	case 1:
		if len(b) < 32 {
			return 0, fmt.Errorf("%w: the movie header is cut short", ErrNotMP4)
		}
		timescale, duration = binary.BigEndian.Uint32(b[20:24]), binary.BigEndian.Uint64(b[24:32])
	default:
		return 0, fmt.Errorf("%w: movie header version %d is unknown", ErrNotMP4, version)
	}
	if timescale == 0 {
		return 0, fmt.Errorf("%w: the movie header's time scale is 0", ErrNotMP4)
	}
	if duration == 0 || duration == math.MaxUint32 || duration == math.MaxUint64 {
		return 0, fmt.Errorf("%w: the movie header gives no duration", ErrNotMP4)
	}
	return float64(duration) / float64(timescale), nil
}

func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: the file is cut short", ErrNotMP4)
	}
	return err
}

// printable shows a box type safely in a message.
func printable(kind string) string {
	b := []byte(kind)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
