package twilioemu

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons/sms/smstest"
)

func TestSegmentCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want int
	}{
		{"short GSM-7", "Rep 1: open with a question.", 1},
		{"160 GSM-7", strings.Repeat("a", 160), 1},
		{"161 GSM-7", strings.Repeat("a", 161), 2},
		{"306 GSM-7", strings.Repeat("a", 306), 2},
		{"307 GSM-7", strings.Repeat("a", 307), 3},
		{"extension characters take two septets", strings.Repeat("€", 80), 1},
		{"an escape is not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), 2},
		{"70 UCS-2", strings.Repeat("ж", 70), 1},
		{"71 UCS-2", strings.Repeat("ж", 71), 2},
		{"one emoji makes the whole body UCS-2", strings.Repeat("a", 70) + "😀", 2},
		{"a surrogate pair is not split", strings.Repeat("ж", 66) + "😀" + strings.Repeat("ж", 10), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, segmentCount(tt.body))
		})
	}
	// The vectors the sender and the course editor are tested against.
	for _, v := range smstest.Vectors() {
		if v.Body == "" {
			continue // Twilio refuses an empty body
		}
		require.Equal(t, v.Segments, segmentCount(v.Body), v.Name)
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\ncr\r\x00\x1f", "é😀€", "bad \xff utf8 \xe2\x82", "<&>\u2028"} {
		var got string
		require.NoError(t, json.Unmarshal(appendJSONString(nil, s), &got), "%q", s)
		want, err := json.Marshal(s)
		require.NoError(t, err)
		var wantStr string
		require.NoError(t, json.Unmarshal(want, &wantStr))
		require.Equal(t, wantStr, got, "%q", s)
	}
}

func TestIsE164(t *testing.T) {
	t.Parallel()
	for n, want := range map[string]bool{
		"+15550001111": true, "+442071838750": true, "+123456789012345": true,
		"+1234567890123456": false, "15550001111": false, "+0155501000": false,
		"+1 555 000 1111": false, "+": false, "": false, "whatsapp:+15550001111": false,
	} {
		require.Equal(t, want, isE164(n), n)
	}
}
