package ui

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// chartData is the patient chart's summary.
type chartData struct {
	Banner      banner
	Problems    []chartItem
	Medications []chartItem
	Allergies   []chartItem
	Vitals      []vitalItem
	Encounters  []chartItem
	Notes       []noteItem
	Apps        []oauth.App
}

type chartItem struct {
	Text, Detail, Date string
}

// patientOf reads the patient of a chart page. A patient the user's
// organization does not hold is not found, worded exactly like one that
// does not exist (docs/decisions/0004-tenancy.md).
func (u *UI) patientOf(ctx context.Context, usr *user, id string) (resource, banner, error) {
	p, err := u.rec.read(ctx, "Patient", id)
	if err != nil {
		return resource{}, banner{}, err
	}
	if p.Org != usr.Org {
		return resource{}, banner{}, privateErr("Patient", id)
	}
	b, _, err := patientBanner(p, u.opts.Now())
	if err != nil {
		return resource{}, banner{}, err
	}
	allergies, err := u.allergies(ctx, usr.Org, id)
	if err != nil {
		return resource{}, banner{}, err
	}
	for _, a := range allergies {
		b.Allergies = append(b.Allergies, a.Text)
	}
	return p, b, nil
}

// chart is the patient chart: banner and summary.
func (u *UI) chart(rw http.ResponseWriter, r *http.Request, usr *user) error {
	ctx := r.Context()
	id := r.PathValue("id")
	_, b, err := u.patientOf(ctx, usr, id)
	if err != nil {
		return err
	}
	d := chartData{Banner: b}
	if d.Allergies, err = u.allergies(ctx, usr.Org, id); err != nil {
		return err
	}
	if d.Problems, err = u.problems(ctx, usr.Org, id); err != nil {
		return err
	}
	if d.Medications, err = u.medications(ctx, usr.Org, id); err != nil {
		return err
	}
	if d.Vitals, err = u.latestVitals(ctx, usr.Org, id); err != nil {
		return err
	}
	if d.Encounters, err = u.encounters(ctx, usr.Org, id, 5); err != nil {
		return err
	}
	if d.Notes, err = u.notes(r, usr, id); err != nil {
		return err
	}
	if d.Apps, err = u.opts.OAuth.LaunchableApps(ctx, usr.Org); err != nil {
		return err
	}
	var origins []string
	for _, a := range d.Apps {
		origins = append(origins, a.Origin)
	}
	u.render(rw, r, http.StatusOK, "patient_chart.html", page{Title: b.Name, User: usr, Message: flash(r), Data: d, FormOrigins: origins})
	return nil
}

// flash is the confirmation a redirect after a write carries.
func flash(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "allergy":
		return "Allergy saved."
	case "vitals":
		return "Vital signs saved."
	case "signed":
		return "Note signed."
	case "draft":
		return "Draft saved."
	}
	return ""
}

type statusCC struct {
	ClinicalStatus *codeableConcept `json:"clinicalStatus"`
	Code           *codeableConcept `json:"code"`
}

func active(cs *codeableConcept, activeCodes ...string) bool {
	if cs == nil {
		return true
	}
	for _, c := range cs.Coding {
		if slices.Contains(activeCodes, c.Code) {
			return true
		}
	}
	return false
}

func (u *UI) allergies(ctx context.Context, org, patient string) ([]chartItem, error) {
	rs, err := u.rec.patientRecords(ctx, org, "AllergyIntolerance", patient, nil, maxList)
	if err != nil {
		return nil, err
	}
	var out []chartItem
	for _, r := range rs {
		var a struct {
			statusCC
			VerificationStatus *codeableConcept `json:"verificationStatus"`
			Criticality        string           `json:"criticality"`
			RecordedDate       string           `json:"recordedDate"`
			Reaction           []struct {
				Manifestation []codeableConcept `json:"manifestation"`
				Severity      string            `json:"severity"`
			} `json:"reaction"`
		}
		if r.decode(&a) != nil || !active(a.ClinicalStatus, "active") || a.VerificationStatus.has("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "entered-in-error") {
			continue
		}
		var det []string
		for _, re := range a.Reaction {
			for _, m := range re.Manifestation {
				det = append(det, m.String())
			}
			if re.Severity != "" {
				det = append(det, re.Severity)
			}
		}
		if a.Criticality == "high" {
			det = append(det, "high criticality")
		}
		out = append(out, chartItem{Text: a.Code.String(), Detail: strings.Join(det, ", "), Date: a.RecordedDate})
	}
	slices.SortFunc(out, func(a, b chartItem) int { return cmp.Compare(a.Text, b.Text) })
	return out, nil
}

func (u *UI) problems(ctx context.Context, org, patient string) ([]chartItem, error) {
	rs, err := u.rec.patientRecords(ctx, org, "Condition", patient, nil, maxList)
	if err != nil {
		return nil, err
	}
	var out []chartItem
	for _, r := range rs {
		var c struct {
			statusCC
			OnsetDateTime string `json:"onsetDateTime"`
			RecordedDate  string `json:"recordedDate"`
		}
		if r.decode(&c) != nil || !active(c.ClinicalStatus, "active", "recurrence", "relapse") {
			continue
		}
		out = append(out, chartItem{Text: c.Code.String(), Date: day(cmp.Or(c.OnsetDateTime, c.RecordedDate))})
	}
	slices.SortFunc(out, func(a, b chartItem) int { return cmp.Compare(b.Date, a.Date) })
	return out, nil
}

func (u *UI) medications(ctx context.Context, org, patient string) ([]chartItem, error) {
	var out []chartItem
	for _, typ := range []string{"MedicationRequest", "MedicationStatement"} {
		rs, err := u.rec.patientRecords(ctx, org, typ, patient, url.Values{"status": {"active"}}, maxList)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			var m struct {
				Status                    string           `json:"status"`
				MedicationCodeableConcept *codeableConcept `json:"medicationCodeableConcept"`
				MedicationReference       *reference       `json:"medicationReference"`
				AuthoredOn                string           `json:"authoredOn"`
				EffectiveDateTime         string           `json:"effectiveDateTime"`
				DosageInstruction         []struct {
					Text string `json:"text"`
				} `json:"dosageInstruction"`
				Dosage []struct {
					Text string `json:"text"`
				} `json:"dosage"`
			}
			if r.decode(&m) != nil || m.Status != "active" {
				continue
			}
			name := m.MedicationCodeableConcept.String()
			if name == "" && m.MedicationReference != nil {
				name = cmp.Or(m.MedicationReference.Display, m.MedicationReference.Reference)
			}
			var dose []string
			for _, d := range append(m.DosageInstruction, m.Dosage...) {
				if d.Text != "" {
					dose = append(dose, d.Text)
				}
			}
			out = append(out, chartItem{Text: name, Detail: strings.Join(dose, "; "), Date: day(cmp.Or(m.AuthoredOn, m.EffectiveDateTime))})
		}
	}
	slices.SortFunc(out, func(a, b chartItem) int { return cmp.Compare(a.Text, b.Text) })
	return out, nil
}

func (u *UI) encounters(ctx context.Context, org, patient string, n int) ([]chartItem, error) {
	// The n most recent by period: a sorted, bounded search, however long
	// the history (benchmark W10).
	rs, err := u.rec.patientRecords(ctx, org, "Encounter", patient, url.Values{"_sort": {"-date"}}, n)
	if err != nil {
		return nil, err
	}
	var out []chartItem
	for _, r := range rs {
		var e struct {
			Status string            `json:"status"`
			Class  *coding           `json:"class"`
			Type   []codeableConcept `json:"type"`
			Period *struct {
				Start string `json:"start"`
			} `json:"period"`
			ReasonCode []codeableConcept `json:"reasonCode"`
		}
		if r.decode(&e) != nil || e.Status == "entered-in-error" {
			continue
		}
		it := chartItem{}
		if len(e.Type) > 0 {
			it.Text = e.Type[0].String()
		}
		if it.Text == "" && e.Class != nil {
			it.Text = cmp.Or(e.Class.Display, e.Class.Code)
		}
		if len(e.ReasonCode) > 0 {
			it.Detail = e.ReasonCode[0].String()
		}
		if e.Period != nil {
			it.Date = day(e.Period.Start)
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b chartItem) int { return cmp.Compare(b.Date, a.Date) })
	return out[:min(n, len(out))], nil
}

// day is the date part of a FHIR date or dateTime.
func day(s string) string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

func privateErr(typ, id string) error {
	return outcome.New(outcome.Private, "not-found", fmt.Sprintf("%s/%s is not known", typ, id))
}
