package bulkimport

import (
	"bytes"
	"context"
	"testing"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// FuzzImportReader feeds arbitrary input to the importer as NDJSON and as a
// JSON document: it must never panic, and every non-blank NDJSON line is
// either imported or reported.
func FuzzImportReader(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Patient","id":"a"}` + "\n" + `{"resourceType":"Patient"}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`,
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"DELETE","url":"Patient/x"}}]}`,
		`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Basic","code":{"text":"x"}}}]}`,
		`{"resourceType":"Bundle","type":"history"}`,
		"\n\n{\n", `[1,2]`, `{"resourceType":"Patient","id":"a"}{"x":1}`,
	} {
		f.Add([]byte(s))
	}
	st := sqltest.Backends()[0].Open(f)
	svc := interaction.New(interaction.Options{Store: st, Validator: validate.New(spec.R4(), validate.Options{}), Spec: spec.R4(), Audit: testTrail(f, st)})
	ctx := auth.NewContext(context.Background(), auth.NewSystem())
	f.Fuzz(func(t *testing.T, data []byte) {
		im := New(Options{Service: svc, Org: "fuzz", MaxBytes: 1 << 16})
		sum, err := im.ImportReader(ctx, "f.ndjson", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for l := range bytes.SplitSeq(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		if got := sum.Resources() + sum.Failed; got != lines {
			t.Errorf("%d lines, %d imported or failed", lines, got)
		}
		if _, err := New(Options{Service: svc, Org: "fuzz"}).ImportReader(ctx, "f.json", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	})
}
