package oauth

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/continuum-ehr/continuum/internal/store"
)

// PatientChoice is a patient offered by the patient picker of a standalone
// launch.
type PatientChoice struct {
	ID   string
	Name string
}

// maxChoices bounds the picker; maxScanned bounds the versions read to
// fill it (the most recently written first), so a large deployment's
// picker stays fast until search replaces this walk.
const (
	maxChoices = 200
	maxScanned = 20 * store.MaxHistoryCount
)

// userOrgs returns the organizations a user belongs to.
func userOrgs(u *store.User) []string {
	var orgs []string
	for _, m := range u.Memberships {
		if !slices.Contains(orgs, m.Org) {
			orgs = append(orgs, m.Org)
		}
	}
	return orgs
}

// PatientChoices lists the patients a practitioner may pick: the current
// Patients of the organizations the user belongs to, newest first, at most
// maxChoices. It reads the store as the server itself (the picker is part
// of the authorization server), restricted to the user's organizations.
// Until search arrives it walks the Patient type history; it then becomes
// one search with the same restriction.
func (s *Server) PatientChoices(ctx context.Context, u *store.User) ([]PatientChoice, error) {
	orgs := userOrgs(u)
	if len(orgs) == 0 {
		return nil, nil
	}
	var out []PatientChoice
	seen := map[string]bool{}
	err := s.opts.Store.View(ctx, func(tx store.ReadTx) error {
		q := store.HistoryQuery{Type: "Patient", Count: store.MaxHistoryCount}
		for scanned := 0; len(out) < maxChoices && scanned < maxScanned; scanned += store.MaxHistoryCount {
			page, err := tx.History(ctx, q)
			if err != nil {
				return err
			}
			for _, v := range page.Versions {
				if seen[v.ID] {
					continue // an older version of one seen (history is newest first)
				}
				seen[v.ID] = true
				if v.Deleted() || !slices.Contains(orgs, v.Org) || len(out) == maxChoices {
					continue
				}
				out = append(out, PatientChoice{ID: v.ID, Name: patientName(v.Body)})
			}
			if page.Next == "" {
				return nil
			}
			q.Cursor = page.Next
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b PatientChoice) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// mayPick reports whether u may pick patient id: a current Patient of one of
// u's organizations.
func (s *Server) mayPick(ctx context.Context, u *store.User, id string) (bool, error) {
	if id == "" || !store.ValidID(id) {
		return false, nil
	}
	v, err := s.opts.Store.Read(ctx, "Patient", id)
	if err != nil {
		if isKindAny(err) {
			return false, nil
		}
		return false, err
	}
	return slices.Contains(userOrgs(u), v.Org), nil
}

// patientName renders a Patient's name for a person choosing it: the
// official (else the first) HumanName's text, or given and family names.
func patientName(body []byte) string {
	var p struct {
		Name []struct {
			Use    string   `json:"use"`
			Text   string   `json:"text"`
			Family string   `json:"family"`
			Given  []string `json:"given"`
			Prefix []string `json:"prefix"`
		} `json:"name"`
		BirthDate string `json:"birthDate"`
	}
	if json.Unmarshal(body, &p) != nil || len(p.Name) == 0 {
		return "(no name)"
	}
	n := p.Name[0]
	for _, cand := range p.Name {
		if cand.Use == "official" {
			n = cand
			break
		}
	}
	if n.Text != "" {
		return n.Text
	}
	name := strings.TrimSpace(strings.Join(append(slices.Clone(n.Given), n.Family), " "))
	if name == "" {
		return "(no name)"
	}
	return name
}

// PatientName returns the name of patient id for the consent page, when u
// may see that patient (a current Patient of u's organizations, or u's own
// record); "" otherwise, so the page never reveals another organization's
// patient.
func (s *Server) PatientName(ctx context.Context, u *store.User, id string) string {
	if id == "" || !store.ValidID(id) {
		return ""
	}
	if u.Kind != "patient" {
		if ok, err := s.mayPick(ctx, u, id); err != nil || !ok {
			return ""
		}
	} else if u.FHIRUser != "Patient/"+id {
		return ""
	}
	v, err := s.opts.Store.Read(ctx, "Patient", id)
	if err != nil {
		return ""
	}
	return patientName(v.Body)
}
