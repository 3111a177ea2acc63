package index

import (
	"net/url"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/search"
)

// TestAgreesWithSearch checks that stored values and query values are read
// alike: a date or number written the same way in a resource and in a
// search URL must give the same range, in the same server zone.
func TestAgreesWithSearch(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	for _, zone := range []*time.Location{time.UTC, berlin} {
		for _, d := range []string{"2020", "2020-02", "2020-02-29", "2020-06-01T10:00:00Z", "2020-06-01T10:00:00+02:00",
			"2020-06-01T10:00:00.123Z", "2020-06-01T10:00:00", "1969-12-31T23:59:59.5-03:00"} {
			q, err := search.Parse(spec.R4(), "Observation", url.Values{"date": {d}}, search.Options{Location: zone, Strict: true})
			if err != nil {
				t.Errorf("search.Parse(date=%s): %v", d, err)
				continue
			}
			want := q.Filters[0].Values[0].(search.DateValue)
			low, high, _, ok := DateRange(d, zone)
			if !ok || !low.Equal(want.Low) || !high.Equal(want.High) {
				t.Errorf("%s in %s: index [%s, %s) %v, search [%s, %s)", d, zone, low, high, ok, want.Low, want.High)
			}
		}
	}
	for _, n := range []string{"100", "100.00", "0.5", "-3", "1e2", "1.5E-3"} {
		q, err := search.Parse(spec.R4(), "RiskAssessment", url.Values{"probability": {n}}, search.Options{Strict: true})
		if err != nil {
			t.Errorf("search.Parse(probability=%s): %v", n, err)
			continue
		}
		want := q.Filters[0].Values[0].(search.NumberValue)
		wl, _ := want.Low.Float64()
		wh, _ := want.High.Float64()
		low, high, ok := NumberRange(n)
		if !ok || !approxEqual(low, wl) || !approxEqual(high, wh) {
			t.Errorf("%s: index [%v, %v) %v, search [%v, %v)", n, low, high, ok, wl, wh)
		}
	}
}

func approxEqual(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-12*max(1, a, -a)
}
