package web

import (
	"testing"

	"github.com/morselhq/morsel/lessons/sms/smstest"
)

// TestMeasureVectors holds the editor's measure to the segment vectors the
// sender is tested against.
func TestMeasureVectors(t *testing.T) {
	t.Parallel()
	for _, v := range smstest.Vectors() {
		m := measure("k", "label", v.Body, false)
		if m.Encoding != v.Encoding || m.Segments != v.Segments {
			t.Errorf("%s: measured %s, %d segments; want %s, %d", v.Name, m.Encoding, m.Segments, v.Encoding, v.Segments)
		}
		if (m.Char != "") != (v.FirstUCS2 >= 0) || v.FirstUCS2 >= 0 && m.At != v.FirstUCS2 {
			t.Errorf("%s: first UCS-2 character %q at %d; want at %d", v.Name, m.Char, m.At, v.FirstUCS2)
		}
		if m.Replacement != v.Replacement {
			t.Errorf("%s: replacement %q, want %q", v.Name, m.Replacement, v.Replacement)
		}
	}
}
