package web

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons/errs"
)

// FuzzParseRepsJSON holds the JSON rep import to the CSV one's promises: an
// error is Invalid with at most 101 details, each naming a rep or the body;
// reps that pass are normalised.
func FuzzParseRepsJSON(f *testing.F) {
	f.Add(`{"reps":[{"name":"Ava","phone":"+12012345678","timezone":"America/New_York"}]}`)
	f.Add(`{"reps":[{"name":"Ava","phone":"201 234 5678","email":"AVA@x.test","team":"North","timezone":"America/New_York"},{"name":"Ben","phone":"201 234 5678","timezone":"UTC"}]}`)
	f.Add(`{"reps":[{"name":"A\nB","phone":"+12012345678","timezone":"UTC"},{}]}`)
	f.Add(`{"reps":[{"name":"\u0000","phone":"1","timezone":"Mars/Base"}], "extra": 1}`)
	f.Add(`{"reps":[]}`)
	f.Add(`[]`)
	csvPath := regexp.MustCompile(`^line \d+`)
	e164 := regexp.MustCompile(`^\+[1-9][0-9]+$`)
	f.Fuzz(func(t *testing.T, body string) {
		reps, err := parseRepsJSON([]byte(body), "US")
		if err != nil {
			e := errs.As(err)
			require.NotNil(t, e, "want an *errs.Error, got %v", err)
			require.Equal(t, errs.Invalid, e.Code)
			require.LessOrEqual(t, len(e.Details), 101)
			if unmarshalStrict([]byte(body), &importRepsRequest{}) == nil {
				for _, d := range e.Details {
					require.NotRegexp(t, csvPath, d.Path, "a rep's problem is named by its JSON path, not the CSV's line")
				}
			}
			return
		}
		require.NotEmpty(t, reps)
		for _, r := range reps {
			require.Regexp(t, e164, r.Phone)
			require.NotEmpty(t, r.Name)
			require.NotEmpty(t, r.TimeZone)
		}
	})
}
