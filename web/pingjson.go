package web

import (
	"math"
	"strconv"
)

// parseFlatPing reads the body a lesson page sends for one ping, a flat
// object of the six fields, without encoding/json: the pings endpoint takes
// tens of thousands a second. It reports false for anything else (a list of
// pings, another field, an escape in a string, a number out of the common
// range, a ping that rawPing.check refuses...), which parsePings then reads, and
// explains, the slow way; so what it accepts, it reads as parsePings does.
func parseFlatPing(body []byte) (ping, bool) {
	var raw rawPing
	s := string(body) // one copy, which the strings below share
	i := skipJSONSpace(s, 0)
	if i == len(s) || s[i] != '{' {
		return ping{}, false
	}
	i++
	for {
		i = skipJSONSpace(s, i)
		key, next, ok := scanPlainString(s, i)
		if !ok {
			return ping{}, false
		}
		i = skipJSONSpace(s, next)
		if i == len(s) || s[i] != ':' {
			return ping{}, false
		}
		i = skipJSONSpace(s, i+1)
		f := pingFieldNamed(key)
		if f < 0 || raw[f].given {
			return ping{}, false // another field, or a field twice
		}
		v := fieldValue{given: true}
		if pingFields[f].number {
			v.f, i, ok = scanNumber(s, i)
		} else {
			v.s, i, ok = scanPlainString(s, i)
		}
		if !ok {
			return ping{}, false
		}
		raw[f] = v
		i = skipJSONSpace(s, i)
		if i == len(s) {
			return ping{}, false
		}
		if s[i] == ',' {
			i++
			continue
		}
		if s[i] != '}' {
			return ping{}, false
		}
		i++
		break
	}
	if skipJSONSpace(s, i) != len(s) {
		return ping{}, false
	}
	var probs pingProblems
	return raw.check("", &probs)
}

// skipJSONSpace returns the index of the first byte of s from i that is not
// JSON white space.
func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanPlainString reads the JSON string at s[i:]: printable ASCII without
// escapes only. It returns the string's content and the index after it.
func scanPlainString(s string, i int) (string, int, bool) {
	if i == len(s) || s[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return "", 0, false
		}
	}
	return "", 0, false
}

// pow10 holds the powers of ten that a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// scanNumber reads the JSON number at s[i:] and returns its value and the
// index after it. It takes the numbers whose value one multiplication or
// division of exact float64s gives, correctly rounded, as strconv.ParseFloat
// does (at most 15 significant digits, a power of ten up to 22), and hands
// the others to strconv.ParseFloat.
func scanNumber(s string, i int) (float64, int, bool) {
	start := i
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	digits, exp := 0, 0 // significant digits in mant; power of ten to apply
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			mant = mant*10 + uint64(s[i]-'0')
			digits++
		}
	default:
		return 0, 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		from := i
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			if mant == 0 && s[i] == '0' {
				exp-- // leading zeros of the fraction: not significant
				continue
			}
			mant = mant*10 + uint64(s[i]-'0')
			digits++
			exp--
		}
		if i == from {
			return 0, 0, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		from, e := i, 0
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			if e < 10000 {
				e = e*10 + int(s[i]-'0')
			}
		}
		if i == from {
			return 0, 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	var f float64
	switch {
	case digits > 15 || exp > 22 || exp < -22:
		v, err := strconv.ParseFloat(s[start:i], 64)
		if err != nil {
			return 0, 0, false // out of range: parsePings explains
		}
		return v, i, true
	case exp >= 0:
		f = float64(mant) * pow10[exp]
	default:
		f = float64(mant) / pow10[-exp]
	}
	if neg {
		f = math.Copysign(f, -1)
	}
	return f, i, true
}
