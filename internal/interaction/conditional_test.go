package interaction

import (
	"testing"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

func TestConditionalUpdateDelete(t *testing.T) {
	ctx := systemContext()
	sqltest.Each(t, func(t *testing.T, b sqltest.Backend) {
		s := newService(t, b)
		body := `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"5"}],"active":true}`
		r, err := s.ConditionalUpdate(ctx, ConditionalUpdateRequest{Type: "Patient", Criteria: "identifier=urn:mrn|5", Org: "a", Body: []byte(body)})
		if err != nil || !r.Created || r.Version.VersionID != "1" {
			t.Fatalf("conditional update without a match = %+v, %v; want a create", r, err)
		}
		id := r.Version.ID
		r, err = s.ConditionalUpdate(ctx, ConditionalUpdateRequest{Type: "Patient", Criteria: "identifier=urn:mrn|5", Org: "a", IfMatch: "1", Body: []byte(body)})
		if err != nil || r.Created || r.Version.ID != id || r.Version.VersionID != "2" {
			t.Fatalf("conditional update with one match = %+v, %v", r, err)
		}
		_, err = s.ConditionalUpdate(ctx, ConditionalUpdateRequest{Type: "Patient", Criteria: "identifier=urn:mrn|5", Org: "a",
			Body: []byte(`{"resourceType":"Patient","id":"other","identifier":[{"system":"urn:mrn","value":"5"}]}`)})
		wantKind(t, "body id differs from the match", err, outcome.Invalid)
		if _, err := s.Create(ctx, CreateRequest{Type: "Patient", Org: "a", Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
		_, err = s.ConditionalUpdate(ctx, ConditionalUpdateRequest{Type: "Patient", Criteria: "identifier=urn:mrn|5", Org: "a", Body: []byte(body)})
		wantKind(t, "conditional update with two matches", err, outcome.Precondition)
		_, err = s.ConditionalDelete(ctx, ConditionalDeleteRequest{Type: "Patient", Criteria: "identifier=urn:mrn|5"})
		wantKind(t, "conditional delete with two matches", err, outcome.Precondition)
		d, err := s.ConditionalDelete(ctx, ConditionalDeleteRequest{Type: "Patient", Criteria: "_id=" + id})
		if err != nil || d == nil || !d.Deleted() {
			t.Fatalf("conditional delete = %+v, %v", d, err)
		}
		if d, err := s.ConditionalDelete(ctx, ConditionalDeleteRequest{Type: "Patient", Criteria: "identifier=urn:mrn|none"}); err != nil || d != nil {
			t.Errorf("conditional delete without a match = %+v, %v", d, err)
		}
		// Any search is a condition now; an unknown parameter is an error,
		// never ignored (it would widen the match).
		_, err = s.ConditionalDelete(ctx, ConditionalDeleteRequest{Type: "Patient", Criteria: "nonesuch=x"})
		wantKind(t, "unknown parameter in criteria", err, outcome.Invalid)
		r, err = s.ConditionalUpdate(ctx, ConditionalUpdateRequest{Type: "Patient", Criteria: "family=doe&gender=female", Org: "a",
			Body: []byte(`{"resourceType":"Patient","gender":"female","name":[{"family":"Doe"}]}`)})
		if err != nil || !r.Created {
			t.Fatalf("conditional update by name and gender = %+v, %v", r, err)
		}
		r2, err := s.ConditionalUpdate(ctx, ConditionalUpdateRequest{Type: "Patient", Criteria: "family=doe&gender=female", Org: "a",
			Body: []byte(`{"resourceType":"Patient","gender":"female","name":[{"family":"Doe","given":["Jane"]}]}`)})
		if err != nil || r2.Created || r2.Version.ID != r.Version.ID {
			t.Errorf("second conditional update by name and gender = %+v, %v; want an update of %s", r2, err, r.Version.ID)
		}
	})
}
