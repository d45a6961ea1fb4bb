package sms

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func TestSegments(t *testing.T) {
	t.Parallel()

	a := func(n int) string { return strings.Repeat("a", n) }
	c := func(n int) string { return strings.Repeat("ç", n) } // not in GSM 03.38
	euro := func(n int) string { return strings.Repeat("€", n) }

	tests := []struct {
		name     string
		body     string
		encoding Encoding
		segments int
	}{
		{"empty", "", GSM7, 0},
		{"one char", "a", GSM7, 1},
		{"160 plain", a(160), GSM7, 1},
		{"161 plain", a(161), GSM7, 2},
		{"306 plain", a(306), GSM7, 2},
		{"307 plain", a(307), GSM7, 3},
		{"70 UCS-2", c(70), UCS2, 1},
		{"71 UCS-2", c(71), UCS2, 2},
		{"134 UCS-2", c(134), UCS2, 2},
		{"135 UCS-2", c(135), UCS2, 3},
		{"one non-GSM char makes it all UCS-2", a(69) + "ç", UCS2, 1},
		{"one non-GSM char in 71", a(70) + "ç", UCS2, 2},

		{"accents in the GSM set", "é à ñ Ü è ù ì ò Ç Ä Ö Å Æ ß É ä ö å æ ø Ø", GSM7, 1},
		{"lower c cedilla is not GSM", "ça va", UCS2, 1},
		{"capital C cedilla is GSM", "Ça va", GSM7, 1},
		{"e circumflex is not GSM", "fête", UCS2, 1},
		{"a acute is not GSM", "más", UCS2, 1},
		{"Greek capitals in the set", "ΔΦΓΛΩΠΨΣΘΞ", GSM7, 1},
		{"Greek small letter is not", "α", UCS2, 1},
		{"currency and inverted marks", "£$¥¤¡¿§@_", GSM7, 1},
		{"newline and carriage return", "line one\r\nline two\n", GSM7, 1},
		{"tab is not GSM", "a\tb", UCS2, 1},
		{"curly quote is not GSM", "it’s", UCS2, 1},

		{"emoji forces UCS-2", "Nice 🙂", UCS2, 1},
		{"emoji counts 2 units: 68 + 2 = 70", a(68) + "🙂", UCS2, 1},
		{"emoji counts 2 units: 69 + 2 = 71", a(69) + "🙂", UCS2, 2},
		// 66 + 2 + 66 = 134 units would fit in 2 parts if the pair were split.
		{"surrogate pair not split", a(66) + "🙂" + a(66), UCS2, 3},
		{"surrogate pair fits exactly", a(65) + "🙂" + a(67), UCS2, 2},

		{"extension chars count double", "{}[]~^|\\€", GSM7, 1},
		{"80 euro = 160 septets", euro(80), GSM7, 1},
		{"81 euro = 162 septets", euro(81), GSM7, 2},
		{"159 plain + euro = 161 septets", a(159) + "€", GSM7, 2},
		{"152 plain + euro = 154 septets, single", a(152) + "€", GSM7, 1},
		// 152 + 2 + 152 = 306 septets would fit in 2 parts if the escape were split.
		{"escape not split at the boundary", a(152) + "€" + a(152), GSM7, 3},
		{"escape fits exactly", a(151) + "€" + a(153), GSM7, 2},
		{"form feed is in the extension table", a(159) + "\f", GSM7, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			encoding, segments := Segments(tt.body)
			if encoding != tt.encoding || segments != tt.segments {
				t.Errorf("Segments = %s, %d; want %s, %d", encoding, segments, tt.encoding, tt.segments)
			}
		})
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
