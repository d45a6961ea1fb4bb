package tracking_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/tracking"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"postgres://morsel:s3cret@db:5432/morsel", "postgres://morsel:xxxxx@db:5432/morsel"},
		{"postgres://morsel@db/morsel?sslmode=disable&password=s3cret", "postgres://morsel@db/morsel?password=xxxxx&sslmode=disable"},
		{"postgres://db/morsel?sslpassword=s3cret", "postgres://db/morsel?sslpassword=xxxxx"},
		{"host=db user=morsel password=s3cret dbname=morsel", "host=db user=morsel password=xxxxx dbname=morsel"},
		{"host=db password = 's3 cret' dbname=morsel", "host=db password = xxxxx dbname=morsel"},
		{"clickhouse://default:s3cret@ch:9000/default", "clickhouse://default:xxxxx@ch:9000/default"},
		{"clickhouse://ch:9000/default?username=u&password=s3cret", "clickhouse://ch:9000/default?password=xxxxx&username=u"},
		{"clickhouse://ch:9000/default", "clickhouse://ch:9000/default"},
		{"postgres://morsel:s3cret@db:bad/x", "(an address that is not a URL)"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tracking.Redact(tt.in), tt.in)
	}
	require.Equal(t, `cannot parse "postgres://morsel:xxxxx@db:bad/x" or xxxxx`,
		tracking.RedactIn(`cannot parse "postgres://morsel:s3cret@db:bad/x" or s3cret`, "postgres://morsel:s3cret@db:bad/x"))
	require.Equal(t, "password=xxxxx", tracking.RedactIn("password=s3%2Fcret", "postgres://db/x?password=s3%2Fcret"))
}

// Whatever the address, the secret it holds is not in what Redact prints.
func FuzzRedact(f *testing.F) {
	f.Add("postgres://u:", "s3cret", "@db:5432/x")
	f.Add("host=db password=", "s3cret", " dbname=x")
	f.Add("clickhouse://ch:9000/x?password=", "s3cret", "&a=b")
	f.Fuzz(func(t *testing.T, before, secret, after string) {
		if len(secret) < 4 || strings.ContainsAny(secret, "@/:?#&=% '\\\t\n\x00") || strings.Contains(before+after, secret) {
			return
		}
		raw := before + secret + after
		got := tracking.Redact(raw)
		if strings.Contains(got, secret) && isSecretSpot(before) {
			t.Fatalf("Redact(%q) = %q shows the secret", raw, got)
		}
	})
}

// isSecretSpot: the text before a secret puts it where Redact looks.
func isSecretSpot(before string) bool {
	return strings.HasSuffix(before, "password=") || (strings.Contains(before, "://") && strings.HasSuffix(before, ":") && !strings.Contains(before[strings.Index(before, "://")+3:], "@"))
}
