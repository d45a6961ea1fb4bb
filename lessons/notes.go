package lessons

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NoteTagMax is the most characters a #tag may have; a longer run is no tag.
const NoteTagMax = 50

// ParseNote finds the #tags and @mentions in a note's text, each once, in
// lower case, in the order they first appear.
//
// A tag is # followed by letters (of any script), digits, _ or -, with at
// least one letter, at the start of the text or after a space or an opening
// bracket or quote: so "C#", "a#b", a URL's "/#section" and "#1" are not
// tags, and a trailing "-" (a dash after the tag) is not part of it. A
// mention is @ followed by letters, digits, ".", "_" or "-" (an email
// address's local part or a name), after the same, so that an email address
// is not a mention; a trailing "." ends the sentence, not the name.
func ParseNote(text string) (tags, mentions []string) {
	seenTags, seenMentions := map[string]bool{}, map[string]bool{}
	prev := ' '
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if (r == '#' || r == '@') && opensWord(prev) {
			word := noteWord(text[i+size:], r == '@')
			if r == '#' {
				word = strings.TrimRight(word, "-")
				if word != "" && utf8.RuneCountInString(word) <= NoteTagMax && strings.IndexFunc(word, unicode.IsLetter) >= 0 {
					if t := strings.ToLower(word); !seenTags[t] {
						seenTags[t] = true
						tags = append(tags, t)
					}
				}
			} else if word = strings.TrimRight(word, ".-"); word != "" {
				if m := strings.ToLower(word); !seenMentions[m] {
					seenMentions[m] = true
					mentions = append(mentions, m)
				}
			}
		}
		prev = r
		i += size
	}
	return tags, mentions
}

// opensWord says whether a tag or mention may start after r.
func opensWord(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("([{\"'“‘«", r)
}

// noteWord is the run of a tag's (or, with mention, a mention's) characters
// that s starts with.
func noteWord(s string, mention bool) string {
	end := strings.IndexFunc(s, func(r rune) bool {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '_' || r == '-'
		if mention {
			ok = ok || r == '.'
		}
		return !ok
	})
	if end < 0 {
		return s
	}
	return s[:end]
}
