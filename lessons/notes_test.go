package lessons_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
)

func TestParseNote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		text           string
		tags, mentions []string
	}{
		{"the issue's example", "called her, #needs-coaching, @tess please check the pricing quiz", []string{"needs-coaching"}, []string{"tess"}},
		{"nothing", "called her, all good", nil, nil},
		{"at the start and the end", "#follow-up spoke to @Ana.", []string{"follow-up"}, []string{"ana"}},
		{"# inside a word", "knows C# and a#b well", nil, nil},
		{"a URL's fragment", "see https://wiki.example/pricing#tiers", nil, nil},
		{"a number", "she is #1 on the board, #2024goals", []string{"2024goals"}, nil},
		{"an email address", "mail ana@acme.test about #quota", []string{"quota"}, nil},
		{"repeated, in any case", "#Quota then #QUOTA and #quota", []string{"quota"}, nil},
		{"in brackets and quotes", `(#onboarding) "#week-1" «#voix»`, []string{"onboarding", "week-1", "voix"}, nil},
		{"a dash after a tag", "#coaching- then more", []string{"coaching"}, nil},
		{"Unicode tags", "#café #日本語 #Größe #naïve", []string{"café", "日本語", "größe", "naïve"}, nil},
		{"punctuation ends a tag", "#pricing, #renewals; #q3!", []string{"pricing", "renewals", "q3"}, nil},
		{"a lone sign", "# and @ alone", nil, nil},
		{"two signs", "##double @@twice", nil, nil},
		{"on a new line", "first line\n#second-line\t@tab.person", []string{"second-line"}, []string{"tab.person"}},
		{"mentions with dots and dashes", "@mary-jane.o and @bob_smith.", nil, []string{"mary-jane.o", "bob_smith"}},
		{"too long a tag", "#" + strings.Repeat("a", lessons.NoteTagMax+1) + " #" + strings.Repeat("b", lessons.NoteTagMax), []string{strings.Repeat("b", lessons.NoteTagMax)}, nil},
	}
	for _, tt := range tests {
		tags, mentions := lessons.ParseNote(tt.text)
		require.Equal(t, tt.tags, tags, "%s: tags of %q", tt.name, tt.text)
		require.Equal(t, tt.mentions, mentions, "%s: mentions of %q", tt.name, tt.text)
	}
}

func FuzzParseNote(f *testing.F) {
	f.Add("called her, #needs-coaching, @tess please check")
	f.Add("#café «#voix» a#b ana@acme.test ##x")
	f.Fuzz(func(t *testing.T, text string) {
		tags, mentions := lessons.ParseNote(text)
		seen := map[string]bool{}
		for _, tag := range tags {
			require.NotEmpty(t, tag)
			require.Equal(t, strings.ToLower(tag), tag)
			require.False(t, seen[tag], "tag %q twice", tag)
			seen[tag] = true
			require.Contains(t, strings.ToLower(text), "#"+tag)
		}
		for _, m := range mentions {
			require.NotEmpty(t, m)
			require.Contains(t, strings.ToLower(text), "@"+m)
		}
	})
}
