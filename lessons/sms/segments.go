// Package sms holds the rules of SMS delivery that do not depend on a provider
// call: how a body is encoded and how many segments it is billed as.
package sms

import "unicode/utf16"

// Encoding is the character encoding a message is sent in.
type Encoding string

// The two encodings of an SMS.
const (
	GSM7 Encoding = "GSM-7" // GSM 03.38: 7-bit septets, 160 per single message
	UCS2 Encoding = "UCS-2" // UTF-16 code units, 70 per single message
)

// The capacity of a segment: a single message, and each part of a
// concatenated one (the rest holds the concatenation header).
const (
	gsm7Single     = 160 // septets
	gsm7PerSegment = 153
	ucs2Single     = 70 // UTF-16 code units
	ucs2PerSegment = 67
)

// gsmBasic is the GSM 03.38 default alphabet, in table order, without the
// escape at 0x1B. Each character takes one septet.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table: each character is sent as
// the escape plus one septet, so it takes two.
const gsmExtension = "\f^{}\\[~]|€"

// gsmSeptets maps each GSM 03.38 character to the septets it takes.
var gsmSeptets = func() map[rune]int {
	m := make(map[rune]int, 137)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// IsGSM7 reports whether r can be sent in GSM-7, from the basic set or the
// extension table.
func IsGSM7(r rune) bool { return gsmSeptets[r] > 0 }

// Segments returns the encoding Twilio will use for body and how many segments
// it is billed as. Twilio's "smart encoding" is not applied: the body is
// counted as it is sent. An empty body, which Twilio refuses, is GSM-7 and 0
// segments.
func Segments(body string) (Encoding, int) {
	if body == "" {
		return GSM7, 0
	}
	for _, r := range body {
		if !IsGSM7(r) {
			return UCS2, count(body, utf16Units, ucs2Single, ucs2PerSegment)
		}
	}
	return GSM7, count(body, septets, gsm7Single, gsm7PerSegment)
}

// count returns how many segments body takes when each character is size(r)
// units, a single message holds single units and each part of a concatenated
// one perSegment. A character is never split across two parts: neither an
// escaped GSM-7 character nor a UTF-16 surrogate pair.
func count(body string, size func(rune) int, single, perSegment int) int {
	total := 0
	for _, r := range body {
		total += size(r)
	}
	if total <= single {
		return 1
	}
	segments, used := 1, 0
	for _, r := range body {
		n := size(r)
		if used+n > perSegment {
			segments++
			used = 0
		}
		used += n
	}
	return segments
}

func septets(r rune) int { return gsmSeptets[r] }

// utf16Units returns the UTF-16 code units r takes: 2 outside the Basic
// Multilingual Plane (most emoji), else 1.
func utf16Units(r rune) int {
	if utf16.RuneLen(r) == 2 {
		return 2
	}
	return 1
}

// FirstUCS2 returns the index, in characters, of the first character of body
// that GSM-7 cannot carry, the one that makes the whole message UCS-2, and the
// character; -1 and 0 when every character fits.
func FirstUCS2(body string) (int, rune) {
	i := 0
	for _, r := range body {
		if !IsGSM7(r) {
			return i, r
		}
		i++
	}
	return -1, 0
}

// gsmReplacements are the GSM-7 stand-ins for characters that word
// processors and phones put in text in place of plain ones.
var gsmReplacements = map[rune]string{
	'\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u2032': "'", // single quotes, prime
	'\u201C': `"`, '\u201D': `"`, '\u201E': `"`, '\u201F': `"`, '\u2033': `"`, // double quotes
	'\u00AB': `"`, '\u00BB': `"`,
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2014': "-", '\u2015': "-", '\u2212': "-", // dashes, minus
	'\u00A0': " ", '\u2002': " ", '\u2003': " ", '\u2009': " ", '\u202F': " ", '\t': " ", // spaces
	'\u2026': "...", '\u2022': "-", '\u00B7': "-", // ellipsis, bullets
	'\u200B': "", '\uFEFF': "", // invisible: zero-width space, byte order mark
}

// Replacement returns the GSM-7 text that can stand in for r without changing
// what the message says (a straight quote for a curly one, a hyphen for a
// dash, a space for a non-breaking one), and whether there is one.
func Replacement(r rune) (string, bool) {
	s, ok := gsmReplacements[r]
	return s, ok
}
