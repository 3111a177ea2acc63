package interaction

import (
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

func TestApplySubset(t *testing.T) {
	s := &Service{spec: spec.R4()}
	const obs = `{"resourceType":"Observation","id":"o","meta":{"versionId":"1"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},` +
		`"status":"final","code":{"text":"weight"},"valueQuantity":{"value":72.5},"_status":{"id":"s"},"note":[{"text":"n"}]}`
	for _, tc := range []struct {
		sub        Subset
		want, lose []string
		kind       outcome.Kind
	}{
		{Subset{}, []string{`"note"`, `"text"`}, nil, 0},
		{Subset{Summary: "false"}, []string{`"note"`}, []string{"SUBSETTED"}, 0},
		{Subset{Summary: "true"}, []string{`"status":"final"`, `"code"`, `"valueQuantity"`, "SUBSETTED", `"versionId":"1"`}, []string{`"note"`, `"div"`}, 0},
		{Subset{Summary: "text"}, []string{`"div"`, `"status":"final"`, `"code"`}, []string{`"note"`, `"valueQuantity"`}, 0},
		{Subset{Summary: "data"}, []string{`"note"`, `"valueQuantity"`, "SUBSETTED"}, []string{`"div"`}, 0},
		{Subset{Elements: []string{"value", "note"}}, []string{`"valueQuantity"`, `"note"`, `"status":"final"`, `"code"`, `"id":"o"`}, []string{`"div"`}, 0},
		{Subset{Summary: "count"}, nil, nil, outcome.NotSupported},
		{Subset{Summary: "true", Elements: []string{"note"}}, nil, nil, outcome.Invalid},
	} {
		got, err := s.Apply(tc.sub, []byte(obs))
		if tc.kind != 0 {
			wantKind(t, tc.sub.Summary, err, tc.kind)
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tc.sub, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(string(got), w) {
				t.Errorf("%+v: lacks %s: %s", tc.sub, w, got)
			}
		}
		for _, l := range tc.lose {
			if strings.Contains(string(got), l) {
				t.Errorf("%+v: keeps %s: %s", tc.sub, l, got)
			}
		}
	}
}
