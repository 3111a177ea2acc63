package interaction

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// sharedData returns a file of ../shared/data (see its README), skipping the
// test when it is missing except in CI.
func sharedData(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", rel))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared test data is required in CI: %v", err)
		}
		t.Skipf("shared test data: %v", err)
	}
	return b
}

// TestJSONPatchCases runs HL7's JSON Patch cases (RFC 6902's examples and
// error cases) from ../shared/data/patch/json-patch-tests.json.
func TestJSONPatchCases(t *testing.T) {
	cases, err := fhir.Parse(sharedData(t, "patch/json-patch-tests.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases.Items) < 10 {
		t.Fatalf("only %d JSON Patch cases", len(cases.Items))
	}
	for i := range cases.Items {
		c := &cases.Items[i]
		name := c.Str("comment")
		doc, _ := c.Get("doc")
		patch, _ := c.Get("patch")
		if c.Str("disabled") != "" {
			continue
		}
		got, err := ApplyJSONPatch(*doc, patch)
		if want, ok := c.Get("expected"); ok {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if !equal(got, *want) {
				t.Errorf("%s:\n got %s\nwant %s", name, got.Marshal(), want.Marshal())
			}
			continue
		}
		if _, ok := c.Get("error"); ok && err == nil {
			t.Errorf("%s: no error, want %q; got %s", name, c.Str("error"), got.Marshal())
		}
	}
	// The input is never modified.
	doc, _ := fhir.Parse([]byte(`{"a":[1,2],"b":{"c":1}}`))
	before := string(doc.Marshal())
	p, _ := fhir.Parse([]byte(`[{"op":"remove","path":"/a/0"},{"op":"replace","path":"/b/c","value":2},{"op":"add","path":"/b/d","value":3}]`))
	if _, err := ApplyJSONPatch(doc, &p); err != nil {
		t.Fatal(err)
	}
	if after := string(doc.Marshal()); after != before {
		t.Errorf("the input changed: %s → %s", before, after)
	}
}

func TestPatch(t *testing.T) {
	ctx := systemContext()
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		s := newService(t, b)
		if _, err := s.Update(ctx, UpdateRequest{Type: "Patient", ID: "p", Org: "a",
			Body: []byte(`{"resourceType":"Patient","id":"p","active":true,"name":[{"family":"Doe"}]}`)}); err != nil {
			t.Fatal(err)
		}
		v, err := s.Patch(ctx, PatchRequest{Type: "Patient", ID: "p", IfMatch: "1",
			Body: []byte(`[{"op":"test","path":"/active","value":true},{"op":"replace","path":"/active","value":false},{"op":"add","path":"/name/0/given","value":["Jo"]}]`)})
		if err != nil {
			t.Fatal(err)
		}
		if v.VersionID != "2" || !strings.Contains(string(v.Body), `"active":false`) || !strings.Contains(string(v.Body), `"given":["Jo"]`) ||
			!strings.Contains(string(v.Body), `"versionId":"2"`) {
			t.Errorf("patched = %s", v.Body)
		}
		for _, tc := range []struct {
			name, body, ifMatch string
			kind                outcome.Kind
		}{
			{"failed test", `[{"op":"test","path":"/active","value":true}]`, "", outcome.Precondition},
			{"stale If-Match", `[{"op":"remove","path":"/name"}]`, "1", outcome.Precondition},
			{"invalid result", `[{"op":"add","path":"/colour","value":"blue"}]`, "", outcome.Invalid},
			{"changed id", `[{"op":"replace","path":"/id","value":"q"}]`, "", outcome.Invalid},
			{"changed type", `[{"op":"replace","path":"/resourceType","value":"Basic"}]`, "", outcome.Invalid},
			{"not a patch", `{"op":"remove"}`, "", outcome.Invalid},
			{"missing path", `[{"op":"remove","path":"/nothing"}]`, "", outcome.Invalid},
		} {
			_, err := s.Patch(ctx, PatchRequest{Type: "Patient", ID: "p", IfMatch: tc.ifMatch, Body: []byte(tc.body)})
			wantKind(t, tc.name, err, tc.kind)
		}
		_, err = s.Patch(ctx, PatchRequest{Type: "Patient", ID: "nobody", Body: []byte(`[]`)})
		wantKind(t, "patch of an unknown resource", err, outcome.NotFound)
		other := auth.NewContext(ctx, auth.NewPractitionerSession("u-b", "pr-b", auth.Membership{Organization: "b", Role: auth.Physician}))
		_, err = s.Patch(other, PatchRequest{Type: "Patient", ID: "p", Body: []byte(`[]`)})
		wantKind(t, "patch of another organization's resource", err, outcome.Private)
		if cur, _ := s.Read(ctx, ReadRequest{Type: "Patient", ID: "p"}); cur.VersionID != "2" {
			t.Errorf("failed patches wrote: version %s", cur.VersionID)
		}
	})
}

// FuzzJSONPatch applies arbitrary JSON Patch documents to a resource: no
// panic, the input never changes, and a result is always JSON that parses.
func FuzzJSONPatch(f *testing.F) {
	f.Add(`[{"op":"add","path":"/name/0/given/-","value":"X"}]`)
	f.Add(`[{"op":"move","from":"/name/0","path":"/name/1"},{"op":"test","path":"/active","value":true}]`)
	f.Add(`[{"op":"copy","from":"/name","path":"/contact"},{"op":"remove","path":"/name/0/given/1"}]`)
	f.Add(`[{"op":"replace","path":"","value":{}}]`)
	f.Add(`[{"op":"add","path":"/a~1b~0c","value":1}]`)
	const base = `{"resourceType":"Patient","id":"p","active":true,"name":[{"family":"Doe","given":["A","B"]}]}`
	f.Fuzz(func(t *testing.T, patch string) {
		p, err := fhir.Parse([]byte(patch))
		if err != nil {
			return
		}
		doc, err := fhir.Parse([]byte(base))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ApplyJSONPatch(doc, &p)
		if after := string(doc.Marshal()); after != string(mustParse(t, base).Marshal()) {
			t.Fatalf("the input changed: %s", after)
		}
		if err != nil {
			if outcome.As(err).Kind == outcome.Internal {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		if _, err := fhir.Parse(got.Marshal()); err != nil {
			t.Fatalf("result %s does not parse: %v", got.Marshal(), err)
		}
	})
}
