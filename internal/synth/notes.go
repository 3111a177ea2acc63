package synth

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Note types (LOINC document ontology) and the US Core category.
var (
	docProgress  = lnc("11506-3", "Progress note")
	docDischarge = lnc("18842-5", "Discharge summary")
	docTherapy   = lnc("28579-1", "Physical therapy note")
	docED        = lnc("34111-5", "Emergency department note")
	docNursing   = lnc("34746-8", "Nurse note")
)

// note writes the visit's clinical note as a DocumentReference whose
// attachment is plain text assembled from the facts the visit recorded.
func (g *gen) note(v *visit) {
	p := g.p
	typ, title := docProgress, "Progress note"
	switch {
	case v.class == classIMP:
		typ, title = docDischarge, "Discharge summary"
	case v.class == classEMER:
		typ, title = docED, "Emergency department note"
	case v.e.kind == evTherapy:
		typ, title = docTherapy, "Physical therapy note"
	case v.e.kind == evHome:
		typ, title = docNursing, "Home health nursing note"
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("%s", strings.ToUpper(title))
	line("%s", v.org.name)
	line("")
	if v.class == classIMP {
		line("Admitted: %s", longDate(v.start))
		line("Discharged: %s", longDate(v.end))
	} else {
		line("Date of service: %s", longDate(v.start))
	}
	age := p.age(v.start)
	mrn := ""
	for _, m := range p.mrns {
		if m.org == v.org {
			mrn = m.value
		}
	}
	line("Patient: %s (MRN %s), born %s", p.name.text(), mrn, longDate(p.birth))
	line("Clinician: %s", v.who.name.text())
	line("")
	line("Reason for visit: %s.", capitalize(v.reason))
	line("")
	var probs, meds []string
	for _, c := range p.conds {
		if c.recorded && !c.onset.After(v.start) {
			probs = append(probs, lower(c.code.display))
		}
	}
	for _, m := range p.meds {
		if !m.start.After(v.start) {
			meds = append(meds, m.code.display)
		}
	}
	allergy := "no known allergies"
	if p.allergy >= 0 {
		a := allergies[p.allergy]
		allergy = "allergic to " + lower(a.code.display)
	}
	line("History: %s is a %s seen for %s. Active problems: %s. Current medications: %s. Allergies: %s.",
		p.name.given, describe(age, p.gender), v.reason, sentence(probs), sentence(meds), allergy)
	if v.class == classIMP {
		line("")
		line("Hospital course: admitted with %s. %s. Recovered without complication.",
			lower(v.e.adm.code.display), capitalize(sentence(v.procs))+" was performed")
	}
	if len(v.vitals) > 0 {
		line("")
		line("Vital signs: %s.", sentence(v.vitals))
	}
	if len(v.results) > 0 {
		line("")
		line("Results: %s.", strings.Join(v.results, "; "))
	}
	line("")
	line("Assessment and plan:")
	for _, d := range v.dx {
		line("- Diagnosis: %s.", d)
	}
	for _, pl := range v.plan {
		line("- %s", capitalize(pl))
	}
	if len(v.procs) > 0 && v.class != classIMP {
		line("- Procedures: %s.", sentence(v.procs))
	}
	if len(v.meds) > 0 {
		line("- Prescriptions: %s.", sentence(v.meds))
	}
	if len(v.imms) > 0 {
		line("- Immunizations given: %s.", sentence(v.imms))
	}
	for _, r := range v.refs {
		line("- %s.", capitalize(r))
	}
	line("")
	line("Electronically signed by %s on %s.", v.who.name.text(), longDate(v.end))

	id := newID(g.r)
	text := b.String()
	o := obj{
		{"resourceType", "DocumentReference"},
		{"id", id},
		{"meta", profile(usCore + "us-core-documentreference")},
		{"status", "current"},
		{"docStatus", "final"},
		{"type", typ.concept()},
		{"category", arr{obj{{"coding", arr{code{"http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note", "Clinical Note"}.coding()}}}}},
		{"subject", g.patientRef()},
		{"date", v.end.UTC().Format("2006-01-02T15:04:05.000Z")},
		{"author", arr{ref("Practitioner", v.who.id, v.who.name.text())}},
		{"authenticator", ref("Practitioner", v.who.id, v.who.name.text())},
		{"custodian", ref("Organization", v.org.id, v.org.name)},
		{"description", title},
		{"content", arr{obj{
			{"attachment", obj{{"contentType", "text/plain; charset=utf-8"}, {"language", "en-US"},
				{"data", base64.StdEncoding.EncodeToString([]byte(text))}, {"title", title}, {"creation", dt(v.end)}}},
			{"format", code{"http://ihe.net/fhir/ValueSet/IHE.FormatCode.codesystem", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "mimeType Sufficient"}.coding()},
		}}},
		{"context", obj{{"encounter", arr{g.encRef(v)}}, {"period", obj{{"start", dt(v.start)}, {"end", dt(v.end)}}}}},
	}
	g.emit("DocumentReference", id, o)
}

func longDate(t time.Time) string { return t.UTC().Format("January 2, 2006") }

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func describe(age int, gender string) string {
	switch {
	case age < 1:
		if gender == "male" {
			return "infant boy"
		}
		return "infant girl"
	case age < 18:
		if gender == "male" {
			return fmt.Sprintf("%d-year-old boy", age)
		}
		return fmt.Sprintf("%d-year-old girl", age)
	}
	if gender == "male" {
		return fmt.Sprintf("%d-year-old man", age)
	}
	return fmt.Sprintf("%d-year-old woman", age)
}
