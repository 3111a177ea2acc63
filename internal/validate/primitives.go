package validate

// Hand-written matchers for the regular expressions that R4 gives its
// primitive types (https://hl7.org/fhir/R4/datatypes.html#primitive). They
// accept exactly the strings the spec's expressions accept (FuzzPrimitives
// checks that against the expressions themselves) and run several times
// faster than regexp, which matters because every primitive of every stored
// resource passes through here.

// matchPrimitive reports whether s is a valid lexical form of the primitive
// type name; handled is false for types without a matcher here.
func matchPrimitive(name, s string) (ok, handled bool) {
	switch name {
	case "string", "markdown":
		// [ \r\n\t\S]+ : anything but a form feed.
		for i := 0; i < len(s); i++ {
			if s[i] == '\f' {
				return false, true
			}
		}
		return len(s) > 0, true
	case "code":
		return matchCode(s), true
	case "uri", "url", "canonical":
		// \S*
		for i := 0; i < len(s); i++ {
			if isSpace(s[i]) {
				return false, true
			}
		}
		return true, true
	case "id":
		return idRE(s), true
	case "oid":
		return len(s) > 8 && s[:8] == "urn:oid:" && matchOIDValue(s[8:]), true
	case "uuid":
		return len(s) == 45 && s[:9] == "urn:uuid:" && matchLowerUUID(s[9:]), true
	case "integer":
		if len(s) > 0 && s[0] == '-' {
			s = s[1:]
		}
		return matchUnsigned(s), true
	case "unsignedInt":
		return matchUnsigned(s), true
	case "positiveInt":
		return len(s) > 0 && s[0] != '0' && allDigits(s), true
	case "date":
		return matchDate(s, false), true
	case "dateTime":
		return matchDate(s, true), true
	case "instant":
		return matchInstant(s), true
	case "time":
		n := matchTime(s)
		return n > 0 && n == len(s), true
	}
	return false, false
}

// isSpace is RE2's \s: [\t\n\f\r ].
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// matchCode: [^\s]+(\s[^\s]+)* — no leading, trailing or doubled whitespace.
func matchCode(s string) bool {
	if len(s) == 0 || isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if isSpace(s[i]) && isSpace(s[i-1]) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// matchUnsigned: [0]|([1-9][0-9]*)
func matchUnsigned(s string) bool {
	if s == "0" {
		return true
	}
	return len(s) > 0 && s[0] != '0' && allDigits(s)
}

// matchOIDValue: [0-2](\.(0|[1-9][0-9]*))+
func matchOIDValue(s string) bool {
	if len(s) < 3 || s[0] < '0' || s[0] > '2' || s[1] != '.' {
		return false
	}
	s = s[2:]
	for {
		end := 0
		for end < len(s) && s[end] != '.' {
			end++
		}
		if !matchUnsigned(s[:end]) {
			return false
		}
		if end == len(s) {
			return true
		}
		s = s[end+1:]
	}
}

// matchLowerUUID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}
func matchLowerUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// twoDigits returns the value of s[i:i+2] if both are digits, else -1.
func twoDigits(s string, i int) int {
	if i+2 > len(s) || s[i] < '0' || s[i] > '9' || s[i+1] < '0' || s[i+1] > '9' {
		return -1
	}
	return int(s[i]-'0')*10 + int(s[i+1]-'0')
}

// matchYear: four digits, not 0000.
func matchYear(s string) bool {
	return len(s) >= 4 && allDigits(s[:4]) && s[:4] != "0000"
}

// matchDate matches date, or dateTime when withTime: YYYY(-MM(-DD(Thh:mm:ss(.f+)?TZ)?)?)?
func matchDate(s string, withTime bool) bool {
	if !matchYear(s) {
		return false
	}
	if len(s) == 4 {
		return true
	}
	if s[4] != '-' {
		return false
	}
	if m := twoDigits(s, 5); m < 1 || m > 12 {
		return false
	}
	if len(s) == 7 {
		return true
	}
	if s[7] != '-' {
		return false
	}
	if d := twoDigits(s, 8); d < 1 || d > 31 {
		return false
	}
	if len(s) == 10 {
		return true
	}
	if !withTime || s[10] != 'T' {
		return false
	}
	n := matchTime(s[11:])
	return n > 0 && matchZone(s[11+n:])
}

// matchInstant: YYYY-MM-DDThh:mm:ss(.f+)?TZ, every part required.
func matchInstant(s string) bool {
	return len(s) > 10 && s[10] == 'T' && matchDate(s, true)
}

// matchTime matches hh:mm:ss(.f+)? at the start of s and returns its length,
// or 0.
func matchTime(s string) int {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0
	}
	if h := twoDigits(s, 0); h < 0 || h > 23 {
		return 0
	}
	if m := twoDigits(s, 3); m < 0 || m > 59 {
		return 0
	}
	if sec := twoDigits(s, 6); sec < 0 || sec > 60 {
		return 0
	}
	n := 8
	if n < len(s) && s[n] == '.' {
		j := n + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == n+1 {
			return 0
		}
		n = j
	}
	return n
}

// matchZone: Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)
func matchZone(s string) bool {
	if s == "Z" {
		return true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return false
	}
	h, m := twoDigits(s, 1), twoDigits(s, 4)
	if h < 0 || m < 0 {
		return false
	}
	if h == 14 {
		return m == 0
	}
	return h <= 13 && m <= 59
}
