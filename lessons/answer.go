package lessons

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Keyword is a carrier/compliance keyword a whole message can be.
type Keyword string

// The keywords. KeywordNone is a message that is not a keyword.
const (
	KeywordNone  Keyword = ""
	KeywordStop  Keyword = "stop"  // opt out of all messages
	KeywordStart Keyword = "start" // opt back in after a stop
	KeywordHelp  Keyword = "help"  // ask who is texting and how to stop
)

// keywords maps each recognised word, upper case, to its keyword. The stop words
// are the ones Twilio acts on by default, so that our opt-out state matches the
// carrier's.
var keywords = map[string]Keyword{
	"STOP": KeywordStop, "STOPALL": KeywordStop, "UNSUBSCRIBE": KeywordStop, "CANCEL": KeywordStop,
	"END": KeywordStop, "QUIT": KeywordStop, "REVOKE": KeywordStop, "OPTOUT": KeywordStop,
	"START": KeywordStart, "YES": KeywordStart, "UNSTOP": KeywordStart,
	"HELP": KeywordHelp, "INFO": KeywordHelp,
}

// ParseKeyword reports which keyword the whole message is, or KeywordNone. Case,
// spaces, hyphens and underscores inside the message ("Stop all", "opt-out") and
// anything that is not a letter or digit at either end ("STOP.", "stop!", "HELP?",
// "stop 🛑") are ignored; a keyword inside a longer message ("please stop texting
// me") does not count.
//
// Stop words: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT.
// Start words: START, YES, UNSTOP. Help words: HELP, INFO.
func ParseKeyword(body string) Keyword {
	s := norm.NFKC.String(body) // full-width letters to ASCII
	s = strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
	return keywords[s]
}

// answerMaxWords is the most words a reply graded by a letter or number may have,
// filler not counted.
const answerMaxWords = 6

// answerFiller are words ignored around an answer ("I think it's B"), written as
// answerTokens leaves them: lower case, apostrophes removed.
var answerFiller = setOf(
	"think", "thinks", "thought", "answer", "answers", "is", "its", "it", "my", "me", "the",
	"letter", "option", "choice", "number", "guess", "probably", "definitely", "def", "pretty",
	"sure", "final", "for", "im", "id", "ill", "ive", "go", "going", "with", "pick", "choose",
	"say", "would", "reckon", "believe", "be", "that", "thats", "correct", "ok", "okay", "um",
	"umm", "uh", "hmm", "hm", "well", "so", "oh", "ah", "yeah", "yep", "hi", "hey", "please",
	"pls", "plz", "thanks", "thx", "ty",
)

// answerNegations make a reply ambiguous ("not b", "isn't b").
var answerNegations = setOf(
	"not", "no", "nope", "nah", "never", "neither", "nor", "isnt", "arent", "wasnt", "dont",
	"doesnt", "didnt", "aint", "cant", "cannot", "wont", "wouldnt", "shouldnt", "except",
)

// answerConnectors join alternatives: next to one, "a" is a letter ("a or b").
var answerConnectors = setOf("or", "and", "vs", "versus", "then", "maybe", "plus", "also")

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// ParseAnswer reads an SMS reply to a question with the given choices, shown as
// A, B, C... It returns the index of the chosen choice and ok, or ok false when
// the reply is unrelated or ambiguous and the rep should be asked again.
//
// The reply is folded first: compatibility-decomposed (full-width "Ｂ" is "B"),
// accents dropped ("é" is "e"), lower-cased, and cut into words of letters and
// digits; apostrophes inside a word are dropped ("it's" is "its"), and every other
// character (punctuation, symbols, emoji, spaces) only separates words. A reply
// points at a choice in three ways:
//
//   - Choice text: the words of a choice's text appear together in the reply
//     ("10 %" and "10" for "10%", "your team-lead" for "Your team lead"). A leading
//     "the", "a" or "an" of the choice text may be left out. Where two choice texts
//     match at the same place the longer wins; matches that partly overlap, or two
//     choices with the same words, make the reply ambiguous.
//   - Number: a word of digits, 1 for the first choice.
//   - Letter: a one-letter word, "a" for the first choice. "a" and "i" are also
//     English words, so they count only when standing alone: last in the reply,
//     followed by punctuation or a symbol ("a)", "a, I think"), followed by a
//     choice text ("a 10%"), or next to a connector ("a or b", "b and a").
//     Otherwise they are an article or a pronoun and ignored ("a lot" is not A,
//     "I think a" is A). "i" is a pronoun whenever there are fewer than 9 choices.
//
// A one-word choice text that is also a letter or number in range counts both
// ways ("1" as the text of the third choice and as the first choice is ambiguous).
// Letters and numbers inside a matched choice text ("Plan B") are part of the text.
//
// The reply is graded (ok) only when all of these hold:
//
//   - it has no question mark ("?", "¿", "؟", even a bare "b?"): a question is
//     never an answer;
//   - outside matched choice texts, it has no negation ("not", "no", "isn't",
//     "never"...) and no letter or number outside the choices ("E" for four
//     choices, "0", "7", "100% sure b");
//   - every way it points at a choice points at the same one ("A or B", "2 3",
//     "B) 5%" when B is "10%", "5% or 10%" are ambiguous);
//   - if a letter or number points at the choice, the reply has at most 6 words
//     outside choice texts, not counting filler ("I", "think", "answer", "is",
//     "my", "it's", "the", "letter", "option", "guess", "probably", "sure"...);
//   - if only choice text points at it, every other word is filler ("definitely
//     the sales manager" is graded; "thank you" is not, even with a choice "You").
func ParseAnswer(body string, choices []string) (choice int, ok bool) {
	n := len(choices)
	folded := answerFold(body)
	if n == 0 || strings.ContainsAny(folded, "?¿؟") {
		return 0, false
	}
	words := answerTokens(folded)
	if len(words) == 0 {
		return 0, false
	}

	var picked answerPicks
	covered := make([]bool, len(words))
	spans, ok := answerChoiceSpans(words, choices)
	if !ok {
		return 0, false
	}
	for _, s := range spans {
		for i := s.start; i < s.end; i++ {
			covered[i] = true
		}
		picked.add(s.choice)
		if s.end-s.start == 1 { // a one-word text may also be a letter or number
			if i, isPick := answerLetterOrNumber(words[s.start].text); isPick && i < n {
				picked.add(i)
			}
		}
	}

	byLetterOrNumber := false
	count := 0 // words outside choice texts, filler not counted
	for i, w := range words {
		if covered[i] {
			continue
		}
		if answerNegations[w.text] {
			return 0, false
		}
		idx, isPick := answerLetterOrNumber(w.text)
		switch {
		case isPick && (w.text == "a" || w.text == "i"):
			if idx >= n || !answerStandalone(words, covered, i) {
				continue // an article or a pronoun
			}
		case isPick && idx >= n:
			return 0, false
		case isPick:
		case answerFiller[w.text]:
			continue
		default:
			count++
			continue
		}
		picked.add(idx)
		byLetterOrNumber = true
		count++
	}

	choice, single := picked.single()
	switch {
	case !single:
		return 0, false
	case byLetterOrNumber && count > answerMaxWords:
		return 0, false
	case !byLetterOrNumber && count > 0:
		return 0, false
	}
	return choice, true
}

// answerPicks collects the distinct choices a reply points at.
type answerPicks struct {
	first, count int
}

func (p *answerPicks) add(i int) {
	switch {
	case p.count == 0:
		p.first, p.count = i, 1
	case i != p.first:
		p.count++
	}
}

// single returns the choice if exactly one was picked.
func (p answerPicks) single() (int, bool) { return p.first, p.count == 1 }

// answerFold decomposes s, drops accents and other combining marks, and lower-cases it.
func answerFold(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return unicode.ToLower(r)
	}, norm.NFKD.String(s))
}

// answerWord is one word of a folded reply and whether a mark (punctuation, a
// symbol, an emoji) follows it before the next word.
type answerWord struct {
	text      string
	markAfter bool
}

// answerTokens cuts folded text into words of letters and digits.
func answerTokens(folded string) []answerWord {
	var words []answerWord
	var cur []rune
	mark := false // a mark since the last word
	runes := []rune(folded)
	for i, r := range runes {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if len(cur) == 0 {
				if len(words) > 0 {
					words[len(words)-1].markAfter = mark
				}
				words = append(words, answerWord{})
				mark = false
			}
			cur = append(cur, r)
			continue
		case answerApostrophe(r) && len(cur) > 0 && i+1 < len(runes) && unicode.IsLetter(runes[i+1]):
			continue // "it's" is "its"
		}
		if len(cur) > 0 {
			words[len(words)-1].text = string(cur)
			cur = cur[:0]
		}
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			mark = true
		}
	}
	if len(cur) > 0 {
		words[len(words)-1].text = string(cur)
	}
	if len(words) > 0 {
		words[len(words)-1].markAfter = mark
	}
	return words
}

func answerApostrophe(r rune) bool {
	return r == '\'' || r == '’' || r == '‘' || r == 'ʼ'
}

// answerLetterOrNumber reads a one-letter word (a = 0) or a number (1 = 0). The
// index is never negative but may be too large; ok is false for other words.
func answerLetterOrNumber(w string) (idx int, ok bool) {
	if len(w) == 1 && w[0] >= 'a' && w[0] <= 'z' {
		return int(w[0] - 'a'), true
	}
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(w)
	if err != nil || n > 1000 {
		n = 1000 // far out of range
	}
	if n == 0 {
		n = 1000 // no choice 0
	}
	return n - 1, true
}

// answerStandalone reports whether words[i] stands alone: last, set off by a
// mark after it, next to a connector, or followed by a choice text.
func answerStandalone(words []answerWord, covered []bool, i int) bool {
	switch {
	case i == len(words)-1, words[i].markAfter, covered[i+1]:
		return true
	case answerConnectors[words[i+1].text]:
		return true
	case i > 0 && answerConnectors[words[i-1].text]:
		return true
	}
	return false
}

// answerSpan is where the text of a choice appears in a reply: words[start:end].
type answerSpan struct {
	start, end, choice int
}

// answerChoiceSpans finds where choice texts appear in words, the longer match
// winning where one lies inside another. ok is false when matches of different
// choices cover the same words or partly overlap.
func answerChoiceSpans(words []answerWord, choices []string) (spans []answerSpan, ok bool) {
	var found []answerSpan
	for c, text := range choices {
		want, article := answerChoiceWords(text)
		if len(want) == 0 {
			continue
		}
		for start := 0; start+len(want) <= len(words); start++ {
			if !answerWordsEqual(words[start:start+len(want)], want) {
				continue
			}
			f := answerSpan{start: start, end: start + len(want), choice: c}
			if article != "" && start > 0 && words[start-1].text == article && !words[start-1].markAfter {
				f.start-- // the article written too: "a lot" for "A lot"
			}
			found = append(found, f)
		}
	}
	// Longest first; ties by position, then choice, so the result is stable.
	for i := 1; i < len(found); i++ {
		for j := i; j > 0 && answerSpanBefore(found[j], found[j-1]); j-- {
			found[j], found[j-1] = found[j-1], found[j]
		}
	}
next:
	for _, f := range found {
		for _, s := range spans {
			switch {
			case f.end <= s.start || f.start >= s.end:
				// apart
			case f.start == s.start && f.end == s.end:
				return nil, false // two choices with the same words
			case f.start >= s.start && f.end <= s.end:
				continue next // inside a longer match
			default:
				return nil, false // partly overlapping
			}
		}
		spans = append(spans, f)
	}
	return spans, true
}

func answerSpanBefore(a, b answerSpan) bool {
	la, lb := a.end-a.start, b.end-b.start
	switch {
	case la != lb:
		return la > lb
	case a.start != b.start:
		return a.start < b.start
	default:
		return a.choice < b.choice
	}
}

// answerChoiceWords returns the words of a choice's text and, when it starts
// with "the", "a" or "an" and has more words, that article apart.
func answerChoiceWords(text string) (words []string, article string) {
	for _, w := range answerTokens(answerFold(text)) {
		words = append(words, w.text)
	}
	if len(words) > 1 && (words[0] == "the" || words[0] == "a" || words[0] == "an") {
		return words[1:], words[0]
	}
	return words, ""
}

func answerWordsEqual(words []answerWord, want []string) bool {
	for i, w := range words {
		if w.text != want[i] {
			return false
		}
	}
	return true
}
