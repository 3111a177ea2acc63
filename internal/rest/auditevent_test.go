package rest

import (
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/interaction"
)

func TestAuditDate(t *testing.T) {
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		in       []string
		from, to time.Time
		bad      bool
	}{
		{in: []string{"2026-11-25"}, from: d(2026, 11, 25), to: d(2026, 11, 26)},
		{in: []string{"ge2026", "lt2027-02"}, from: d(2026, 1, 1), to: d(2027, 2, 1)},
		{in: []string{"gt2026-11"}, from: d(2026, 12, 1)},
		{in: []string{"le2026-11-25"}, to: d(2026, 11, 26)},
		{in: []string{"eq2026-11-25T10:00:00Z"}, from: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), to: time.Date(2026, 11, 25, 10, 0, 0, int(time.Millisecond), time.UTC)},
		{in: []string{"sa2026"}, bad: true},
		{in: []string{"yesterday"}, bad: true},
		{in: []string{"ge"}, bad: true},
	} {
		var req interaction.AuditSearchRequest
		var err error
		for _, v := range tc.in {
			if err = auditDate(v, &req); err != nil {
				break
			}
		}
		if (err != nil) != tc.bad || (!tc.bad && (!req.From.Equal(tc.from) || !req.To.Equal(tc.to))) {
			t.Errorf("%v: [%v, %v), %v", tc.in, req.From, req.To, err)
		}
	}
}

// FuzzAuditDate: date values come from the URL; any input is answered
// without a panic.
func FuzzAuditDate(f *testing.F) {
	for _, s := range []string{"2026", "ge2026-11-25", "lt2026-11-25T10:00:00+01:00", "eq", "ap2026-13", "gt2026-02-30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var req interaction.AuditSearchRequest
		_ = auditDate(s, &req)
	})
}
