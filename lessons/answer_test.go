package lessons

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// Choice lists for the answer tests.
var (
	answerDays    = []string{"Monday", "Tuesday", "Wednesday", "Thursday"}
	answerPercent = []string{"5%", "10%", "20%"}
	answerWho     = []string{"You", "Your team lead", "The sales manager", "Finance"}
	answerAccents = []string{"Café crème", "Thé vert", "Eau"}
	answerYesNo   = []string{"Yes", "No"}
	answerPlans   = []string{"Plan A", "Plan B"}
	answerAmounts = []string{"A lot", "A little", "None"}
	answerNumbers = []string{"3", "2", "1"}
	answerTerms   = []string{"1 day", "2 days", "3 days"}
	answerSame    = []string{"10%", "10 %", "20%"}
)

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	const no = -1 // not graded
	tests := []struct {
		body    string
		choices []string
		want    int
	}{
		// A letter, with punctuation and filler.
		{"b", answerDays, 1},
		{"B", answerDays, 1},
		{" b. ", answerDays, 1},
		{"B)", answerDays, 1},
		{"(b)", answerDays, 1},
		{"b:", answerDays, 1},
		{"b!", answerDays, 1},
		{"answer: b", answerDays, 1},
		{"Answer B", answerDays, 1},
		{"my answer is b", answerDays, 1},
		{"I think B", answerDays, 1},
		{"it's B", answerDays, 1},
		{"it’s D", answerDays, 3},
		{"I'd say b", answerDays, 1},
		{"B 🙂", answerDays, 1},
		{"Ｂ", answerDays, 1},
		{"d", answerDays, 3},
		{"b because over ten percent", answerDays, 1},
		{"b because over ten percent needs the lead", answerDays, no}, // 7 words
		// "a" and "i".
		{"a", answerDays, 0},
		{"A.", answerDays, 0},
		{"I think a", answerDays, 0},
		{"a, I think", answerDays, 0},
		{"a lot", answerDays, no},
		{"I", answerDays, no},
		{"A or B", answerDays, no},
		{"a and b", answerDays, no},
		{"b or a", answerDays, no},
		{"b or a lot", answerDays, no},
		// A number.
		{"2", answerPercent, 1},
		{"2.", answerPercent, 1},
		{"(2)", answerPercent, 1},
		{"option 3", answerPercent, 2},
		{"0", answerPercent, no},
		{"7", answerPercent, no},
		{"4", answerPercent, no},
		{"2 3", answerPercent, no},
		{"2 2", answerPercent, 1},
		{"100% sure b", answerDays, no},
		// The text of a choice.
		{"10%", answerPercent, 1},
		{"10 %", answerPercent, 1},
		{"10", answerPercent, 1},
		{"B - 10%", answerPercent, 1},
		{"B) 10%", answerPercent, 1},
		{"A) 10%", answerPercent, no},
		{"a 10%", answerPercent, no},
		{"a 5%", answerPercent, 0},
		{"Your team lead", answerWho, 1},
		{"your  team-lead", answerWho, 1},
		{"YOUR TEAM LEAD!", answerWho, 1},
		{"the sales manager", answerWho, 2},
		{"sales manager", answerWho, 2},
		{"definitely the sales manager", answerWho, 2},
		{"Finance I guess", answerWho, 3},
		{"you", answerWho, 0},
		{"thank you", answerWho, no},
		{"you or finance", answerWho, no},
		{"cafe creme", answerAccents, 0},
		{"CAFÉ  CRÈME", answerAccents, 0},
		{"the vert", answerAccents, 1},
		{"No", answerYesNo, 1},
		{"yes", answerYesNo, 0},
		{"no no", answerYesNo, 1},
		{"not no", answerYesNo, no},
		{"plan b", answerPlans, 1},
		{"b", answerPlans, 1},
		{"plan a or plan b", answerPlans, no},
		{"a lot", answerAmounts, 0},
		{"a little", answerAmounts, 1},
		{"1", answerNumbers, no}, // the third choice's text, or the first choice
		{"2", answerNumbers, 1},
		{"2 days", answerTerms, 1},
		{"10%", answerSame, no},
		{"b", answerSame, 1},
		{"10% or 20%", answerPercent, no},
		{"5% 10%", answerPercent, no},
		// Unrelated or ambiguous.
		{"", answerDays, no},
		{"   ", answerDays, no},
		{"🙂", answerDays, no},
		{"hello", answerDays, no},
		{"bye", answerDays, no},
		{"ab", answerDays, no},
		{"Abc", answerDays, no},
		{"maybe", answerDays, no},
		{"what?", answerDays, no},
		{"is it b?", answerDays, no},
		{"b?", answerDays, no},
		{"b？", answerDays, no},
		{"E", answerDays, no},
		{"e", answerPercent, no},
		{"not b", answerDays, no},
		{"isn't b", answerDays, no},
		{"no, b", answerDays, no},
		{"b never", answerDays, no},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseAnswer(tc.body, tc.choices)
			if tc.want == no {
				require.False(t, ok, "graded as %d", got)
				return
			}
			require.True(t, ok, "not graded")
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseAnswerNoChoices(t *testing.T) {
	t.Parallel()
	_, ok := ParseAnswer("a", nil)
	require.False(t, ok)
}

// answerOrPattern finds two letters joined by " or " in folded text.
var answerOrPattern = regexp.MustCompile(`(?:^|[^\pL\pN'’‘ʼ])([a-z]) or ([a-z])(?:$|[^\pL\pN'’‘ʼ])`)

func FuzzParseAnswer(f *testing.F) {
	for _, body := range []string{"b", " (b) ", "I think a", "a lot", "A or B", "b or c", "2", "10 %",
		"your team-lead", "Café crème", "not b", "is it b?", "B - 10%", "x a or b y", "🙂 d", "7"} {
		f.Add(body, uint8(2))
	}
	pool := []string{"5%", "10%", "Your team lead", "Café crème", "Finance", "The sales manager"}

	f.Fuzz(func(t *testing.T, body string, k uint8) {
		choices := pool[:2+int(k)%5]
		choice, ok := ParseAnswer(body, choices)
		if ok {
			require.True(t, choice >= 0 && choice < len(choices), "choice %d of %d", choice, len(choices))
		}

		c2, ok2 := ParseAnswer(" \t\n"+body+" \r\n ", choices)
		require.Equal(t, ok, ok2, "whitespace changed ok")
		if ok {
			require.Equal(t, choice, c2, "whitespace changed the choice")
		}

		for _, m := range answerOrPattern.FindAllStringSubmatch(answerFold(body), -1) {
			x, y := int(m[1][0]-'a'), int(m[2][0]-'a')
			if x != y && x < len(choices) && y < len(choices) {
				require.False(t, ok, "%q has %q but was graded as %d", body, m[0], choice)
			}
		}
	})
}

func TestParseKeyword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want Keyword
	}{
		{"STOP", KeywordStop},
		{"stop", KeywordStop},
		{" Stop \n", KeywordStop},
		{"STOP.", KeywordStop},
		{"stop!", KeywordStop},
		{"stop!!! 🛑", KeywordStop},
		{"Stop all", KeywordStop},
		{"STOPALL", KeywordStop},
		{"unsubscribe", KeywordStop},
		{"Cancel", KeywordStop},
		{"end", KeywordStop},
		{"QUIT", KeywordStop},
		{"revoke", KeywordStop},
		{"opt-out", KeywordStop},
		{"ＳＴＯＰ", KeywordStop},
		{"start", KeywordStart},
		{"Yes", KeywordStart},
		{"UNSTOP", KeywordStart},
		{"help", KeywordHelp},
		{"HELP?", KeywordHelp},
		{"Info", KeywordHelp},
		{"please stop texting me", KeywordNone},
		{"stop it", KeywordNone},
		{"don't stop", KeywordNone},
		{"stopp", KeywordNone},
		{"s.t.o.p", KeywordNone},
		{"b", KeywordNone},
		{"🛑", KeywordNone},
		{"", KeywordNone},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, ParseKeyword(tc.body))
		})
	}
}
