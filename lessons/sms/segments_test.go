package sms

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/morselhq/morsel/lessons/sms/smstest"
)

// TestSegments checks the shared vectors, which the Twilio emulator and the
// course editor are tested against too.
func TestSegments(t *testing.T) {
	t.Parallel()
	for _, v := range smstest.Vectors() {
		t.Run(v.Name, func(t *testing.T) {
			encoding, segments := Segments(v.Body)
			if string(encoding) != v.Encoding || segments != v.Segments {
				t.Errorf("Segments = %s, %d; want %s, %d", encoding, segments, v.Encoding, v.Segments)
			}
			at, r := FirstUCS2(v.Body)
			if at != v.FirstUCS2 {
				t.Errorf("FirstUCS2 = %d, want %d", at, v.FirstUCS2)
			}
			if at < 0 {
				return
			}
			repl, ok := Replacement(r)
			if repl != v.Replacement || ok != (v.Replacement != "") {
				t.Errorf("Replacement(%q) = %q, %t; want %q", r, repl, ok, v.Replacement)
			}
		})
	}
}

func TestReplacementsAreGSM(t *testing.T) {
	t.Parallel()
	for r, s := range gsmReplacements {
		if IsGSM7(r) {
			t.Errorf("%q has a replacement but is GSM-7 already", r)
		}
		if at, _ := FirstUCS2(s); at >= 0 {
			t.Errorf("replacement %q for %q is not GSM-7", s, r)
		}
	}
}

func TestGSMAlphabet(t *testing.T) {
	t.Parallel()

	// 128 positions less the escape; 9 printable extensions plus form feed.
	if n := utf8.RuneCountInString(gsmBasic); n != 127 {
		t.Errorf("basic set has %d characters, want 127", n)
	}
	if n := utf8.RuneCountInString(gsmExtension); n != 10 {
		t.Errorf("extension table has %d characters, want 10", n)
	}
	if len(gsmSeptets) != 137 {
		t.Errorf("%d distinct characters, want 137: one is listed twice", len(gsmSeptets))
	}
	for _, r := range "\x1b`\t" {
		if IsGSM7(r) {
			t.Errorf("IsGSM7(%q) = true", r)
		}
	}
}

func FuzzSegments(f *testing.F) {
	for _, s := range []string{
		"", "a", "Hi {name}, your lesson is ready: https://m.example/l/4b",
		strings.Repeat("€", 81), strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152),
		strings.Repeat("a", 66) + "🙂" + strings.Repeat("a", 66), "ça va", "\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		encoding, segments := Segments(body)
		if body == "" {
			if encoding != GSM7 || segments != 0 {
				t.Fatalf("empty body: %s, %d; want GSM-7, 0", encoding, segments)
			}
			return
		}
		if segments < 1 {
			t.Fatalf("%q: %d segments", body, segments)
		}

		allGSM := true
		for _, r := range body {
			allGSM = allGSM && IsGSM7(r)
		}
		if allGSM != (encoding == GSM7) {
			t.Fatalf("%q: encoding %s, all GSM-7 characters: %t", body, encoding, allGSM)
		}

		// The count lies between the total divided by a full part and by a
		// part one unit short (when the last character of each part is wide).
		single, perSegment, total := ucs2Single, ucs2PerSegment, 0
		if encoding == GSM7 {
			single, perSegment = gsm7Single, gsm7PerSegment
			for _, r := range body {
				total += gsmSeptets[r]
			}
		} else {
			for _, r := range body {
				total += len(utf16.Encode([]rune{r}))
			}
		}
		if total <= single {
			if segments != 1 {
				t.Fatalf("%q: %d units, %d segments; want 1", body, total, segments)
			}
			return
		}
		low, high := (total+perSegment-1)/perSegment, (total+perSegment-2)/(perSegment-1)
		if segments < low || segments > high {
			t.Fatalf("%q: %d units, %d segments; want %d to %d", body, total, segments, low, high)
		}
	})
}
