package web

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// flatSeeds are single-ping bodies: the fast path's, and near misses that
// must go the slow way.
var flatSeeds = []string{
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":59.75,"rate":1.25,"session":"bench-17-0","event":"segment"}`,
	" \r\n\t{ \"event\" : \"pause\" , \"session\":\"abcdefgh\",\"rate\":4,\"position\":0,\"segment\":0,\"token\":\"AbCdEfGhIjKlMnOpQrStUv\" } \n",
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3e0,"position":5.9750E1,"rate":2.5e-1,"session":"bench-17-0","event":"ended"}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":59.75,"rate":1.25,"session":"bench-17-0","event":"segment","extra":1}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":59.75,"rate":1.25,"session":"bench-17-0","event":"segment","token":"AbCdEfGhIjKlMnOpQrStUv"}`,
	`{"Token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":59.75,"rate":1.25,"session":"bench-17-0","event":"segment"}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStU\u0076","segment":3,"position":59.75,"rate":1.25,"session":"bench-17-0","event":"segment"}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":1e400,"rate":1.25,"session":"bench-17-0","event":"segment"}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":0.1234567890123456789,"rate":1.25,"session":"bench-17-0","event":"segment"}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":03,"position":59.75,"rate":1.25,"session":"bench-17-0","event":"segment"}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":59.75,"rate":1.25,"session":"bench-17-0","event":"segment"}x`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":59.75,"rate":1.25,"session":"bench-17-0","event":"segment",}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":59.75,"rate":1.25,"session":"bench-17-0","event":"play"}`,
	`{"token":"AbCdEfGhIjKlMnOpQrStUv","segment":3,"position":59.75,"rate":1.25,"session":"bench-17-0","event":null}`,
	"\v{\"token\":\"AbCdEfGhIjKlMnOpQrStUv\",\"segment\":3,\"position\":59.75,\"rate\":1.25,\"session\":\"bench-17-0\",\"event\":\"segment\"}",
	`{}`, `{"pings":[]}`, ``, `{`, `{"token"`, `{"token":`, `{"token":"`,
}

// FuzzFlatPing checks the fast path against encoding/json: whatever it
// accepts, parsePingsJSON reads as the same ping.
func FuzzFlatPing(f *testing.F) {
	for _, s := range append(flatSeeds, pingSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, ok := parseFlatPing(body)
		if !ok {
			return
		}
		ps, single, err := parsePingsJSON(body)
		require.NoError(t, err, "the fast path took %q", body)
		require.True(t, single)
		require.Equal(t, []ping{p}, ps)
		require.Equal(t, math.Signbit(ps[0].Position), math.Signbit(p.Position))
	})
}

func TestParseFlatPing(t *testing.T) {
	t.Parallel()
	fast := []bool{true, true, true, false, false, false, false, false, true, false, false, false, false, false, false,
		false, false, false, false, false, false, false}
	require.Len(t, fast, len(flatSeeds))
	for i, body := range flatSeeds {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			p, ok := parseFlatPing([]byte(body))
			require.Equal(t, fast[i], ok, "%s", body)
			ps, single, err := parsePings([]byte(body))
			if ok {
				require.NoError(t, err)
				require.Equal(t, []ping{p}, ps)
				require.True(t, single)
			}
			jps, jsingle, jerr := parsePingsJSON([]byte(body))
			require.Equal(t, jps, ps, "parsePings answers as encoding/json does")
			require.Equal(t, jsingle, single)
			require.Equal(t, jerr, err)
		})
	}
	p, ok := parseFlatPing([]byte(flatSeeds[0]))
	require.True(t, ok)
	require.Equal(t, ping{Token: "AbCdEfGhIjKlMnOpQrStUv", Segment: 3, Position: 59.75, Rate: 1.25, Session: "bench-17-0", Event: pingSegment}, p)
}

func TestScanNumber(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "-0", "1", "15", "59.75", "0.1", "0.3", "1.25", "123456789012345", "1234567890123456",
		"0.000000000000000000001", "0.0000000000000000000000001", "1e22", "1e23", "1E-22", "1e-23", "2.5e+3", "-7.125e-2",
		"900.0000000000001", "1e400", "1e-400", "0e999", "4.9e-324", "9007199254740993", "0.1e1", "100000000000000000000000"} {
		want, werr := strconv.ParseFloat(s, 64)
		got, end, ok := scanNumber(s, 0)
		if werr != nil {
			require.False(t, ok, s)
			continue
		}
		require.True(t, ok, s)
		require.Equal(t, len(s), end, s)
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), "%s: %v, not %v", s, got, want)
	}
	for _, s := range []string{"", "-", "+1", ".5", "1.", "1e", "1e+", "x"} {
		_, _, ok := scanNumber(s, 0)
		require.False(t, ok, s)
	}
	_, end, ok := scanNumber("01", 0)
	require.True(t, ok)
	require.Equal(t, 1, end, "a leading zero ends the number; what follows is not JSON")
}

// FuzzScanNumber checks scanNumber against strconv.ParseFloat, which
// encoding/json uses, on every JSON number it reads.
func FuzzScanNumber(f *testing.F) {
	for _, s := range []string{"59.75", "-0.5e-3", "123456789012345e7", "1e22", "0.000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, end, ok := scanNumber(s, 0)
		if !ok {
			return
		}
		num := s[:end]
		want, err := strconv.ParseFloat(num, 64)
		require.NoError(t, err, num)
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), "%s: %v, not %v", num, got, want)
	})
}
