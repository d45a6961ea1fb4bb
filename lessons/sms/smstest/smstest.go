// Package smstest holds the SMS segment vectors: bodies with the encoding and
// segment count Twilio bills them as. The sender's counting (lessons/sms),
// the Twilio emulator's own count and the course editor's measure are all
// tested against this one table.
package smstest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed vectors.json
var vectorsJSON []byte

// Vector is one body and what it is billed as.
type Vector struct {
	Name     string
	Body     string
	Encoding string // "GSM-7" or "UCS-2"
	Segments int
	// FirstUCS2 is the index, in characters (runes), of the first character
	// GSM-7 cannot carry; -1 when every character fits.
	FirstUCS2 int
	// Replacement is the GSM-7 text offered for that character, "" if none.
	Replacement string
}

// Vectors returns the table. It panics if the embedded file is broken, a
// programming error caught by any test that uses it.
func Vectors() []Vector {
	var raw []struct {
		Name        string  `json:"name"`
		Parts       [][]any `json:"parts"`
		Encoding    string  `json:"encoding"`
		Segments    int     `json:"segments"`
		FirstUCS2   *int    `json:"first_ucs2"`
		Replacement string  `json:"replacement"`
	}
	if err := json.Unmarshal(vectorsJSON, &raw); err != nil {
		panic(fmt.Sprintf("smstest: vectors.json: %v", err))
	}
	out := make([]Vector, len(raw))
	for i, r := range raw {
		var b strings.Builder
		for _, p := range r.Parts {
			text, ok1 := p[0].(string)
			n, ok2 := p[1].(float64)
			if len(p) != 2 || !ok1 || !ok2 {
				panic(fmt.Sprintf("smstest: vectors.json: %q: a part must be [text, count]", r.Name))
			}
			b.WriteString(strings.Repeat(text, int(n)))
		}
		v := Vector{Name: r.Name, Body: b.String(), Encoding: r.Encoding, Segments: r.Segments, FirstUCS2: -1, Replacement: r.Replacement}
		if r.FirstUCS2 != nil {
			v.FirstUCS2 = *r.FirstUCS2
		}
		out[i] = v
	}
	return out
}
