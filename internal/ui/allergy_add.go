package ui

import (
	"net/http"
	"strings"
	"time"
)

// Allergies as AllergyIntolerance
// (https://hl7.org/fhir/R4/allergyintolerance.html): the substance as
// text, confirmed and active, with the reaction and its severity.

type allergyForm struct {
	Substance, Reaction, Severity string
	Errors                        map[string]string
}

type allergyData struct {
	Banner     banner
	Form       allergyForm
	Severities []string
}

var severities = []string{"mild", "moderate", "severe"}

func (u *UI) allergyForm(rw http.ResponseWriter, r *http.Request, usr *user) error {
	_, b, err := u.patientOf(r.Context(), usr, r.PathValue("id"))
	if err != nil {
		return err
	}
	u.render(rw, r, http.StatusOK, "allergy_add.html", page{Title: "Add allergy", User: usr,
		Data: allergyData{Banner: b, Severities: severities}})
	return nil
}

func (u *UI) addAllergy(rw http.ResponseWriter, r *http.Request, usr *user) error {
	id := r.PathValue("id")
	_, b, err := u.patientOf(r.Context(), usr, id)
	if err != nil {
		return err
	}
	f := allergyForm{Substance: strings.TrimSpace(r.PostForm.Get("substance")), Reaction: strings.TrimSpace(r.PostForm.Get("reaction")),
		Severity: r.PostForm.Get("severity"), Errors: map[string]string{}}
	switch {
	case f.Substance == "":
		f.Errors["substance"] = "Enter the substance, e.g. penicillin or peanuts."
	case len(f.Substance) > 200:
		f.Errors["substance"] = "This is too long (200 characters at most)."
	}
	if len(f.Reaction) > 500 {
		f.Errors["reaction"] = "This is too long (500 characters at most)."
	}
	if f.Severity != "" && !contains(severities, f.Severity) {
		f.Errors["severity"] = "Choose mild, moderate or severe."
	} else if f.Severity != "" && f.Reaction == "" {
		f.Errors["reaction"] = "Describe the reaction to give its severity."
	}
	if len(f.Errors) > 0 {
		u.render(rw, r, formStatus, "allergy_add.html", page{Title: "Add allergy", User: usr,
			Error: "Please correct the marked fields.", Data: allergyData{Banner: b, Form: f, Severities: severities}})
		return nil
	}
	type reaction struct {
		Manifestation []codeableConcept `json:"manifestation"`
		Severity      string            `json:"severity,omitempty"`
	}
	a := struct {
		ResourceType       string          `json:"resourceType"`
		ClinicalStatus     codeableConcept `json:"clinicalStatus"`
		VerificationStatus codeableConcept `json:"verificationStatus"`
		Code               codeableConcept `json:"code"`
		Patient            reference       `json:"patient"`
		RecordedDate       string          `json:"recordedDate"`
		Recorder           reference       `json:"recorder"`
		Reaction           []reaction      `json:"reaction,omitempty"`
	}{
		ResourceType:       "AllergyIntolerance",
		ClinicalStatus:     codeableConcept{Coding: []coding{{System: "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", Code: "active", Display: "Active"}}},
		VerificationStatus: codeableConcept{Coding: []coding{{System: "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", Code: "confirmed", Display: "Confirmed"}}},
		Code:               codeableConcept{Text: f.Substance},
		Patient:            reference{Reference: "Patient/" + id},
		RecordedDate:       u.opts.Now().UTC().Format(time.RFC3339),
		Recorder:           reference{Reference: usr.Ref},
	}
	if f.Reaction != "" {
		a.Reaction = []reaction{{Manifestation: []codeableConcept{{Text: f.Reaction}}, Severity: f.Severity}}
	}
	if _, _, err := u.rec.create(r.Context(), usr.Org, "AllergyIntolerance", a, ""); err != nil {
		return err
	}
	http.Redirect(rw, r, "/patients/"+id+"?done=allergy", http.StatusSeeOther)
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
