package tracking

import (
	"net/url"
	"regexp"
	"strings"
)

// hidden stands for a secret in what is printed.
const hidden = "xxxxx"

// dsnPassword finds a password in a key=value connection string
// ("host=db password=s3cret" or password='with spaces').
var dsnPassword = regexp.MustCompile(`(?i)\b(\w*password\s*=\s*)('(?:[^'\\]|\\.|'')*'|\S+)`)

// Redact returns a database address with its secrets replaced, fit for
// logs, errors and -h: the password of a URL's user, any query parameter
// whose name holds "password" or "secret", and the password of a key=value
// connection string.
func Redact(raw string) string {
	if !strings.Contains(raw, "://") {
		return dsnPassword.ReplaceAllString(raw, "${1}"+hidden)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(an address that is not a URL)"
	}
	if q := u.Query(); len(q) > 0 {
		for k := range q {
			if isSecretName(k) {
				q.Set(k, hidden)
			}
		}
		u.RawQuery = q.Encode()
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), hidden)
	}
	return u.String()
}

// RedactIn replaces in text (say, a driver's error) every secret of the
// address raw.
func RedactIn(text, raw string) string {
	for _, secret := range secrets(raw) {
		text = strings.ReplaceAll(text, secret, hidden)
		if escaped := url.QueryEscape(secret); escaped != secret {
			text = strings.ReplaceAll(text, escaped, hidden)
		}
	}
	return text
}

func isSecretName(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "password") || strings.Contains(k, "secret")
}

// secrets lists the secrets of an address, as Redact finds them.
func secrets(raw string) []string {
	var out []string
	if !strings.Contains(raw, "://") {
		for _, m := range dsnPassword.FindAllStringSubmatch(raw, -1) {
			out = append(out, strings.Trim(m[2], "'"))
		}
		return out
	}
	u, err := url.Parse(raw)
	if err != nil {
		// A URL that does not parse may still hold user:password@.
		rest := raw[strings.Index(raw, "://")+3:]
		if userinfo, _, found := strings.Cut(rest, "@"); found {
			if _, pw, found := strings.Cut(userinfo, ":"); found && pw != "" {
				out = append(out, pw)
			}
		}
		return out
	}
	if pw, has := u.User.Password(); has && pw != "" {
		out = append(out, pw)
	}
	for k, vs := range u.Query() {
		if isSecretName(k) {
			for _, v := range vs {
				if v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}
