package synth

import (
	"fmt"
	"math"
	"time"
)

// patient writes the Patient (US Core Patient: race, ethnicity and birth
// sex extensions, an MRN per organization).
func (g *gen) patient() {
	p := g.p
	var ids arr
	for _, m := range p.mrns {
		ids = append(ids, obj{
			{"use", "usual"},
			{"type", obj{{"coding", arr{code{"http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number"}.coding()}}, {"text", "Medical Record Number"}}},
			{"system", m.org.mrnSys},
			{"value", m.value},
			{"assigner", ref("Organization", m.org.id, m.org.name)},
		})
	}
	birthSex := "F"
	if p.gender == "male" {
		birthSex = "M"
	}
	race := obj{{"url", usCore[:len(usCore)-len("StructureDefinition/")] + "StructureDefinition/us-core-race"}, {"extension", arr{
		obj{{"url", "ombCategory"}, {"valueCoding", p.race.coding()}},
		obj{{"url", "text"}, {"valueString", p.race.display}},
	}}}
	eth := obj{{"url", usCore + "us-core-ethnicity"}, {"extension", arr{
		obj{{"url", "ombCategory"}, {"valueCoding", p.ethnic.coding()}},
		obj{{"url", "text"}, {"valueString", p.ethnic.display}},
	}}}
	given := []string{p.name.given}
	lang := code{"urn:ietf:bcp:47", "en-US", "English (United States)"}
	if p.spanish {
		lang = code{"urn:ietf:bcp:47", "es", "Spanish"}
	}
	o := obj{
		{"resourceType", "Patient"},
		{"id", p.id},
		{"meta", profile(usCore + "us-core-patient")},
		{"extension", arr{race, eth, obj{{"url", usCore + "us-core-birthsex"}, {"valueCode", birthSex}}}},
		{"identifier", ids},
		{"active", true},
		{"name", arr{obj{{"use", "official"}, {"family", p.name.family}, {"given", given}}}},
		{"telecom", arr{
			obj{{"system", "phone"}, {"value", p.phone}, {"use", "home"}},
			obj{{"system", "email"}, {"value", fmt.Sprintf("%s.%s@example.com", lowerASCII(p.name.given), lowerASCII(p.name.family))}},
		}},
		{"gender", p.gender},
		{"birthDate", date(p.birth)},
		{"address", arr{obj{{"use", "home"}, {"line", []string{p.street}}, {"city", p.city.name}, {"state", p.city.state},
			{"postalCode", p.city.zip}, {"country", "US"}}}},
		{"maritalStatus", p.marital.concept()},
		{"communication", arr{obj{{"language", lang.concept()}, {"preferred", true}}}},
		{"generalPractitioner", arr{ref("Practitioner", p.pcp.id, p.pcp.name.text())}},
		{"managingOrganization", ref("Organization", p.clinic.id, p.clinic.name)},
	}
	g.emit("Patient", p.id, o)
}

func lowerASCII(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z':
			b = append(b, c)
		}
	}
	return string(b)
}

// encounter writes the Encounter of v.
func (g *gen) encounter(v *visit) {
	status := "finished"
	if !v.end.Before(g.ref) {
		status = "in-progress"
	}
	period := obj{{"start", dt(v.start)}}
	if status == "finished" {
		period = append(period, kv{"end", dt(v.end)})
	}
	o := obj{
		{"resourceType", "Encounter"},
		{"id", v.id},
		{"meta", profile(usCore + "us-core-encounter")},
		{"status", status},
		{"class", v.class.coding()},
		{"type", arr{v.typ.concept()}},
		{"subject", g.patientRef()},
		{"participant", arr{obj{
			{"type", arr{obj{{"coding", arr{code{"http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer"}.coding()}}}}},
			{"period", period},
			{"individual", ref("Practitioner", v.who.id, v.who.name.text())},
		}}},
		{"period", period},
	}
	if v.e.cond != nil && v.e.kind == evFollowUp {
		o = append(o, kv{"reasonReference", arr{ref("Condition", v.e.cond.id, v.e.cond.code.display)}})
	} else if v.e.acute != nil {
		o = append(o, kv{"reasonCode", arr{v.e.acute.code.concept()}})
	}
	if v.class == classIMP {
		o = append(o, kv{"hospitalization", obj{
			{"admitSource", code{"http://terminology.hl7.org/CodeSystem/admit-source", "emd", "From accident/emergency department"}.concept()},
			{"dischargeDisposition", code{"http://terminology.hl7.org/CodeSystem/discharge-disposition", "home", "Home"}.concept()},
		}})
	}
	if v.class != classHH {
		o = append(o, kv{"location", arr{obj{{"location", ref("Location", v.loc.id, v.loc.name)}}}})
	}
	o = append(o, kv{"serviceProvider", ref("Organization", v.org.id, v.org.name)})
	g.emit("Encounter", v.id, o)
	base := map[code]float64{classAMB: 120, classEMER: 900, classIMP: 9000, classHH: 180}[v.class]
	v.charges = append(v.charges, charge{v.typ, g.price(base)})
}

func (g *gen) encRef(v *visit) obj { return obj{{"reference", "Encounter/" + v.id}} }

// condition writes a Condition.
func (g *gen) condition(v *visit, c *condition, problem bool, abated time.Time) {
	clinical := code{condClin, "active", "Active"}
	if !abated.IsZero() {
		clinical = code{condClin, "resolved", "Resolved"}
	}
	cat := code{condCat, "encounter-diagnosis", "Encounter Diagnosis"}
	if problem {
		cat = code{condCat, "problem-list-item", "Problem List Item"}
	}
	o := obj{
		{"resourceType", "Condition"},
		{"id", c.id},
		{"meta", profile(usCore + "us-core-condition")},
		{"clinicalStatus", obj{{"coding", arr{clinical.coding()}}}},
		{"verificationStatus", obj{{"coding", arr{code{condVer, "confirmed", "Confirmed"}.coding()}}}},
		{"category", arr{obj{{"coding", arr{cat.coding()}}}}},
		{"code", c.code.concept()},
		{"subject", g.patientRef()},
		{"encounter", g.encRef(v)},
		{"onsetDateTime", dt(c.onset)},
	}
	if !abated.IsZero() {
		o = append(o, kv{"abatementDateTime", dt(abated)})
	}
	o = append(o, kv{"recordedDate", dt(v.start)}, kv{"recorder", ref("Practitioner", v.who.id, v.who.name.text())})
	g.emit("Condition", c.id, o)
	v.dx = append(v.dx, lower(c.code.display))
}

// diagnose records a chronic condition with its care plan, goal and first
// medications.
func (g *gen) diagnose(v *visit, c *condition) {
	if c.recorded {
		return
	}
	c.recorded = true
	if c.onset.After(v.start) {
		c.onset = v.start
	}
	g.condition(v, c, true, time.Time{})
	ch := c.chronic
	g.goal(v, c.goalID, ch.goal, c, true)
	g.carePlan(v, c.planID, ch.plan, []code{ch.activity}, c, c.goalID, true)
	n := 1
	if len(ch.meds) > 1 && g.r.IntN(2) == 0 {
		n = 2
	}
	for _, m := range ch.meds[:n] {
		med := &medication{code: m, reason: c, start: v.start}
		g.p.meds = append(g.p.meds, med)
		g.medicationRequest(v, med, 365, "Take 1 tablet by mouth once daily")
	}
	v.plan = append(v.plan, fmt.Sprintf("%s: new diagnosis; care plan started (%s).", lower(c.code.display), lower(ch.plan.display)))
}

// renew writes new prescriptions for a condition's medications.
func (g *gen) renew(v *visit, c *condition) {
	var names []string
	for _, m := range g.p.meds {
		if m.reason == c {
			g.medicationRequest(v, m, 365, "Take 1 tablet by mouth once daily")
			names = append(names, m.code.display)
		}
	}
	plan := fmt.Sprintf("%s: stable on current treatment", lower(c.code.display))
	if len(names) > 0 {
		plan += "; renewed " + sentence(names)
	}
	v.plan = append(v.plan, plan+".")
}

// medicationRequest writes a prescription lasting days.
func (g *gen) medicationRequest(v *visit, m *medication, days int, sig string) {
	id := newID(g.r)
	status := "completed"
	if v.start.AddDate(0, 0, days).After(g.ref) {
		status = "active"
	}
	o := obj{
		{"resourceType", "MedicationRequest"},
		{"id", id},
		{"meta", profile(usCore + "us-core-medicationrequest")},
		{"status", status},
		{"intent", "order"},
		{"category", arr{obj{{"coding", arr{code{"http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community", "Community"}.coding()}}}}},
		{"medicationCodeableConcept", m.code.concept()},
		{"subject", g.patientRef()},
		{"encounter", g.encRef(v)},
		{"authoredOn", dt(v.start)},
		{"requester", ref("Practitioner", v.who.id, v.who.name.text())},
	}
	if m.reason != nil {
		o = append(o, kv{"reasonReference", arr{ref("Condition", m.reason.id, m.reason.code.display)}})
	}
	o = append(o, kv{"dosageInstruction", arr{obj{
		{"sequence", 1},
		{"text", sig},
		{"timing", obj{{"repeat", obj{{"frequency", 1}, {"period", 1}, {"periodUnit", "d"}}}}},
		{"asNeededBoolean", false},
		{"doseAndRate", arr{obj{{"doseQuantity", obj{{"value", 1}, {"unit", "tablet"}, {"system", ucum}, {"code", "{tbl}"}}}}}},
	}}})
	o = append(o, kv{"dispenseRequest", obj{
		{"validityPeriod", obj{{"start", dt(v.start)}, {"end", dt(v.start.AddDate(0, 0, days))}}},
		{"numberOfRepeatsAllowed", days / 30},
		{"quantity", obj{{"value", 30}, {"unit", "tablet"}, {"system", ucum}, {"code", "{tbl}"}}},
		{"expectedSupplyDuration", obj{{"value", 30}, {"unit", "days"}, {"system", ucum}, {"code", "d"}}},
	}})
	g.emit("MedicationRequest", id, o)
	v.meds = append(v.meds, m.code.display)
	g.claim(v, []charge{{m.code, g.price(float64(15 + 2*days/3))}}, id)
}

// medicationStatement records, at a reconciliation, that the patient takes
// m.
func (g *gen) medicationStatement(v *visit, m *medication) {
	id := newID(g.r)
	o := obj{
		{"resourceType", "MedicationStatement"},
		{"id", id},
		{"status", "active"},
		{"category", code{"http://terminology.hl7.org/CodeSystem/medication-statement-category", "community", "Community"}.concept()},
		{"medicationCodeableConcept", m.code.concept()},
		{"subject", g.patientRef()},
		{"context", g.encRef(v)},
		{"effectivePeriod", obj{{"start", dt(m.start)}}},
		{"dateAsserted", dt(v.start)},
		{"informationSource", g.patientRef()},
	}
	if m.reason != nil {
		o = append(o, kv{"reasonReference", arr{ref("Condition", m.reason.id, m.reason.code.display)}})
	}
	o = append(o, kv{"dosage", arr{obj{{"text", "1 tablet by mouth once daily"}}}})
	g.emit("MedicationStatement", id, o)
}

// allergyIntolerance records the patient's allergy.
func (g *gen) allergyIntolerance(v *visit) {
	a := allergies[g.p.allergy]
	id := newID(g.r)
	crit := "low"
	if a.reaction.code == "39579001" {
		crit = "high"
	}
	o := obj{
		{"resourceType", "AllergyIntolerance"},
		{"id", id},
		{"meta", profile(usCore + "us-core-allergyintolerance")},
		{"clinicalStatus", obj{{"coding", arr{code{"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"}.coding()}}}},
		{"verificationStatus", obj{{"coding", arr{code{"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed"}.coding()}}}},
		{"type", "allergy"},
		{"category", []string{a.category}},
		{"criticality", crit},
		{"code", a.code.concept()},
		{"patient", g.patientRef()},
		{"encounter", g.encRef(v)},
		{"recordedDate", dt(v.start)},
		{"recorder", ref("Practitioner", v.who.id, v.who.name.text())},
		{"reaction", arr{obj{{"manifestation", arr{a.reaction.concept()}}, {"severity", map[string]string{"low": "mild", "high": "severe"}[crit]}}}},
	}
	g.emit("AllergyIntolerance", id, o)
}

// obs writes an Observation; value is the value[x] member.
func (g *gen) obs(v *visit, m measure, at time.Time, valueKey string, value any, extra ...kv) string {
	id := newID(g.r)
	o := obj{
		{"resourceType", "Observation"},
		{"id", id},
	}
	o = o.add("meta", profile(m.profile))
	catCode := map[string]string{"vital-signs": "Vital Signs", "laboratory": "Laboratory", "social-history": "Social History", "survey": "Survey"}[m.category]
	o = append(o,
		kv{"status", "final"},
		kv{"category", arr{obj{{"coding", arr{code{obsCat, m.category, catCode}.coding()}}}}},
		kv{"code", m.code.concept()},
		kv{"subject", g.patientRef()},
		kv{"encounter", g.encRef(v)},
		kv{"effectiveDateTime", dt(at)},
		kv{"issued", dt(at.Add(time.Duration(5+g.r.IntN(120)) * time.Minute))},
		kv{"performer", arr{ref("Practitioner", v.who.id, v.who.name.text())}},
	)
	if valueKey != "" {
		o = append(o, kv{valueKey, value})
	}
	o = append(o, extra...)
	g.emit("Observation", id, o)
	return id
}

func qty(x float64, m measure) obj {
	return obj{{"value", dec{x, m.digits}}, {"unit", m.unit}, {"system", ucum}, {"code", m.unit}}
}

// quantity writes an Observation with a valueQuantity, its interpretation
// and reference range when m has one.
func (g *gen) quantity(v *visit, m measure, at time.Time, x float64) (string, float64) {
	x = m.round(x)
	var extra []kv
	if m.low != 0 || m.high != 0 {
		rr := obj{}
		if m.low != 0 {
			rr = append(rr, kv{"low", qty(m.low, m)})
		}
		if m.high != 0 {
			rr = append(rr, kv{"high", qty(m.high, m)})
		}
		extra = append(extra, kv{"interpretation", arr{obj{{"coding", arr{m.interpretation(x).coding()}}}}}, kv{"referenceRange", arr{rr}})
	}
	return g.obs(v, m, at, "valueQuantity", qty(x, m), extra...), x
}

// vitalSet writes the vital signs of a visit; full adds height, weight and
// BMI.
func (g *gen) vitalSet(v *visit, full bool) {
	p, r := g.p, g.r
	at := v.start.Add(5 * time.Minute)
	a := p.ageYears(at)
	sys, dia := p.bpAt(r, at)
	if a >= 3 {
		bp := obj{
			{"code", obj{{"coding", arr{vSystolic.coding()}}, {"text", vSystolic.display}}},
			{"valueQuantity", obj{{"value", sys}, {"unit", "mm[Hg]"}, {"system", ucum}, {"code", "mm[Hg]"}}},
		}
		bp2 := obj{
			{"code", obj{{"coding", arr{vDiastol.coding()}}, {"text", vDiastol.display}}},
			{"valueQuantity", obj{{"value", dia}, {"unit", "mm[Hg]"}, {"system", ucum}, {"code", "mm[Hg]"}}},
		}
		g.obs(v, vBPPanel, at, "", nil, kv{"component", arr{bp, bp2}})
		v.vitals = append(v.vitals, fmt.Sprintf("blood pressure %d/%d mmHg", sys, dia))
	}
	hrBase := 75.0
	if a < 1 {
		hrBase = 130
	} else if a < 10 {
		hrBase = 100
	}
	_, hr := g.quantity(v, vHR, at, hrBase+r.NormFloat64()*8)
	rrBase := 15.0
	if a < 5 {
		rrBase = 28
	}
	_, rr := g.quantity(v, vRR, at, rrBase+r.NormFloat64()*1.5)
	_, temp := g.quantity(v, vTemp, at, 36.8+math.Abs(r.NormFloat64()*0.25))
	_, spo2 := g.quantity(v, vSpO2, at, min(100, 97.5+r.NormFloat64()))
	v.vitals = append(v.vitals, fmt.Sprintf("heart rate %.0f/min", hr), fmt.Sprintf("respiratory rate %.0f/min", rr),
		fmt.Sprintf("temperature %.1f °C", temp), fmt.Sprintf("oxygen saturation %.0f%%", spo2))
	if full {
		h := p.heightAt(at) + r.NormFloat64()*0.4
		_, h = g.quantity(v, vHeight, at, h)
		_, w := g.quantity(v, vWeight, at, p.bmiAt(at)*(h/100)*(h/100))
		_, bmi := g.quantity(v, vBMI, at, w/((h/100)*(h/100)))
		v.vitals = append(v.vitals, fmt.Sprintf("height %.1f cm", h), fmt.Sprintf("weight %.1f kg", w), fmt.Sprintf("BMI %.1f kg/m2", bmi))
	}
	if a >= 5 && !full {
		pain := max(0, min(10, int(math.Round(math.Abs(r.NormFloat64())*1.5))))
		g.obs(v, vPain, at, "valueQuantity", obj{{"value", pain}, {"unit", "{score}"}, {"system", ucum}, {"code", "{score}"}})
		v.vitals = append(v.vitals, fmt.Sprintf("pain %d/10", pain))
	}
}

// labValue draws a result of test m for the patient at t: centred in the
// reference range, shifted by the patient's conditions and their own bias.
func (g *gen) labValue(m measure, t time.Time) float64 {
	p, r := g.p, g.r
	lo, hi := m.low, m.high
	switch {
	case lo == 0:
		lo = hi * 0.6
	case hi == 0:
		hi = lo * 1.5
	}
	mid, spread := (lo+hi)/2, (hi-lo)/5
	bias, ok := p.labBias[m.code.code]
	if !ok {
		bias = r.NormFloat64() * spread
		p.labBias[m.code.code] = bias
	}
	x := mid + bias + r.NormFloat64()*spread*0.6
	dm := p.has(&chronics[1], t) != nil
	ckd := p.has(&chronics[6], t) != nil
	switch m.code.code {
	case "4548-4":
		if dm {
			x = 7.2 + r.NormFloat64()*0.8
		}
	case "2345-7":
		if dm {
			x = 140 + r.NormFloat64()*25
		}
	case "2160-0":
		if ckd {
			x = 1.6 + r.NormFloat64()*0.2
		}
	case "33914-3":
		x = 85 + r.NormFloat64()*10
		if ckd {
			x = 45 + r.NormFloat64()*6
		}
	case "2093-3", "18262-6", "2571-8":
		if p.has(&chronics[2], t) != nil {
			x *= 1.35
		}
	}
	return max(x, lo*0.3)
}

// panel writes a laboratory panel: its results and the DiagnosticReport.
func (g *gen) panel(v *visit, which int) {
	pn := panels[which]
	at := v.start.Add(20 * time.Minute)
	var results arr
	var text []string
	for _, m := range pn.tests {
		id, x := g.quantity(v, m, at, g.labValue(m, at))
		results = append(results, ref("Observation", id, m.code.display))
		flag := ""
		if in := m.interpretation(x); in.code != "N" {
			flag = " (" + lower(in.display) + ")"
		}
		text = append(text, fmt.Sprintf("%s %s %s%s", shortName(m.code.display), dec{x, m.digits}.String(), m.unit, flag))
	}
	id := newID(g.r)
	o := obj{
		{"resourceType", "DiagnosticReport"},
		{"id", id},
		{"meta", profile(usCore + "us-core-diagnosticreport-lab")},
		{"status", "final"},
		{"category", arr{obj{{"coding", arr{code{"http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory"}.coding()}}}}},
		{"code", pn.code.concept()},
		{"subject", g.patientRef()},
		{"encounter", g.encRef(v)},
		{"effectiveDateTime", dt(at)},
		{"issued", dt(at.Add(3 * time.Hour))},
		{"performer", arr{ref("Organization", v.org.id, v.org.name)}},
		{"result", results},
	}
	g.emit("DiagnosticReport", id, o)
	v.charges = append(v.charges, charge{pn.code, g.price(60)})
	v.results = append(v.results, lower(pn.code.display)+": "+sentence(text))
}

func (d dec) String() string { return string(appendJSON(nil, d)) }

func shortName(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i+1 < len(s) && s[i+1] == '[' {
			return s[:i]
		}
	}
	return s
}

// procedure writes a Procedure.
func (g *gen) procedure(v *visit, c code, at time.Time, reason *condition) {
	id := newID(g.r)
	o := obj{
		{"resourceType", "Procedure"},
		{"id", id},
		{"meta", profile(usCore + "us-core-procedure")},
		{"status", "completed"},
		{"code", c.concept()},
		{"subject", g.patientRef()},
		{"encounter", g.encRef(v)},
		{"performedPeriod", obj{{"start", dt(at)}, {"end", dt(at.Add(time.Duration(10+g.r.IntN(50)) * time.Minute))}}},
		{"performer", arr{obj{{"actor", ref("Practitioner", v.who.id, v.who.name.text())}}}},
	}
	if v.class != classHH {
		o = append(o, kv{"location", ref("Location", v.loc.id, v.loc.name)})
	}
	if reason != nil {
		o = append(o, kv{"reasonReference", arr{ref("Condition", reason.id, reason.code.display)}})
	}
	g.emit("Procedure", id, o)
	v.charges = append(v.charges, charge{c, g.price(250)})
	v.procs = append(v.procs, lower(c.display))
}

// immunize writes an Immunization.
func (g *gen) immunize(v *visit, c code) {
	id := newID(g.r)
	o := obj{
		{"resourceType", "Immunization"},
		{"id", id},
		{"meta", profile(usCore + "us-core-immunization")},
		{"status", "completed"},
		{"vaccineCode", c.concept()},
		{"patient", g.patientRef()},
		{"encounter", g.encRef(v)},
		{"occurrenceDateTime", dt(v.start.Add(30 * time.Minute))},
		{"primarySource", true},
		{"location", ref("Location", v.loc.id, v.loc.name)},
		{"lotNumber", fmt.Sprintf("%c%c%05d", 'A'+g.r.IntN(26), 'A'+g.r.IntN(26), g.r.IntN(100000))},
		{"performer", arr{obj{{"actor", ref("Practitioner", v.who.id, v.who.name.text())}}}},
	}
	g.emit("Immunization", id, o)
	v.charges = append(v.charges, charge{c, g.price(90)})
	g.given[c.code]++
	g.last["vx"+c.code] = v.start
	v.imms = append(v.imms, c.display)
}

// wellness writes what a check-up adds: social history, screening,
// immunizations due, routine labs, medication reconciliation.
func (g *gen) wellness(v *visit) {
	p, r := g.p, g.r
	t := v.start
	a := p.ageYears(t)
	at := t.Add(10 * time.Minute)
	if a >= 12 {
		g.obs(v, measure{code: socSmoking, category: "social-history", profile: usCore + "us-core-smokingstatus"}, at, "valueCodeableConcept", p.smoking.concept())
		g.obs(v, measure{code: socHousing, category: "social-history"}, at, "valueCodeableConcept", housed.concept())
		score := 0
		if p.has(&chronics[9], t) != nil {
			score = 2 + r.IntN(3)
		} else if r.IntN(8) == 0 {
			score = 1
		}
		g.obs(v, vPHQ2, at, "valueQuantity", obj{{"value", score}, {"unit", "{score}"}, {"system", ucum}, {"code", "{score}"}})
		g.procedure(v, procDepScreen, at, nil)
		v.results = append(v.results, fmt.Sprintf("PHQ-2 score %d", score))
	}
	if a >= 18 {
		g.obs(v, measure{code: socAlcohol, category: "social-history"}, at, "valueQuantity",
			obj{{"value", p.drinks}, {"unit", "{drinks}/d"}, {"system", ucum}, {"code", "{drinks}/d"}})
	}
	g.procedure(v, procAssessment, at, nil)
	// Medications: reconcile and record what the patient takes.
	if len(p.meds) > 0 {
		g.procedure(v, procMedRec, at, nil)
		for _, m := range p.meds {
			if m.reason == nil || m.reason.abated.IsZero() {
				g.medicationStatement(v, m)
			}
		}
	}
	// Immunizations.
	months := int(a * 12)
	for _, s := range childhood {
		if s.months <= months && g.dosesBy(s.vx, s.months) {
			g.immunize(v, s.vx)
		}
	}
	if a >= 0.5 {
		g.immunize(v, vxFlu)
	}
	if a >= 19 && t.Sub(g.last["vx"+vxTd.code]) > 10*365*24*time.Hour && r.IntN(3) == 0 {
		g.immunize(v, vxTd)
	}
	if a >= 50 && g.given[vxZoster.code] < 2 {
		g.immunize(v, vxZoster)
	}
	if a >= 65 && g.given[vxPPSV23.code] == 0 {
		g.immunize(v, vxPPSV23)
	}
	if t.Year() >= 2021 && a >= 12 && g.given[vxCovid19.code] < 2 && r.IntN(3) > 0 {
		g.immunize(v, vxCovid19)
	}
	// Routine labs and screening.
	if a >= 40 || (a >= 18 && r.IntN(3) == 0) {
		g.panel(v, panelBMP)
	}
	if a >= 20 && t.Sub(g.last["lipid"]) > 3*365*24*time.Hour {
		g.last["lipid"] = t
		g.panel(v, panelLipid)
	}
	if a >= 50 && r.IntN(2) == 0 {
		g.panel(v, panelCBC)
	}
	if a >= 50 && t.Sub(g.last["colonoscopy"]) > 10*365*24*time.Hour && r.IntN(3) == 0 {
		g.last["colonoscopy"] = t
		g.procedure(v, procColonosc, t.Add(time.Hour), nil)
	}
	if a >= 50 && p.gender == "female" && t.Sub(g.last["mammo"]) > 2*365*24*time.Hour {
		g.last["mammo"] = t
		g.procedure(v, procMammo, t.Add(time.Hour), nil)
	}
	for _, c := range p.conds {
		if c.recorded && c.chronic.code.code == "195967001" || c.recorded && c.chronic.code.code == "13645005" {
			g.procedure(v, procSpirometry, at, c)
		}
	}
	v.plan = append(v.plan, "Health maintenance: age-appropriate screening and immunizations reviewed.")
}

// dosesBy reports whether a dose of vx scheduled at months is still due:
// fewer doses were given than the schedule holds up to that age.
func (g *gen) dosesBy(vx code, months int) bool {
	due := 0
	for _, s := range childhood {
		if s.vx == vx && s.months <= months {
			due++
		}
	}
	return g.given[vx.code] < due
}

// acuteIllness writes a short illness: diagnosis, treatment, resolution.
func (g *gen) acuteIllness(v *visit, ac *acute) {
	c := &condition{id: newID(g.r), code: ac.code, onset: v.start.AddDate(0, 0, -1-g.r.IntN(3))}
	var abated time.Time
	if end := v.start.AddDate(0, 0, ac.days); end.Before(g.ref) {
		abated = end
	}
	g.condition(v, c, false, abated)
	if ac.proc != nil {
		g.procedure(v, *ac.proc, v.start.Add(20*time.Minute), c)
	}
	if ac.med != nil {
		g.medicationRequest(v, &medication{code: *ac.med, reason: c, start: v.start}, ac.days, "Take 1 tablet by mouth as directed")
	}
	v.plan = append(v.plan, fmt.Sprintf("%s: supportive care; expected to resolve within %s. Return if worse.", lower(ac.code.display), plural(ac.days, "day", "days")))
}

// inpatient writes a hospital stay: vital signs each day, labs, the
// procedure, discharge medications.
func (g *gen) inpatient(v *visit, e *event) {
	adm := e.adm
	c := e.cond
	chronicLike := adm.code.code == "22298006" || adm.code.code == "230690007" || adm.code.code == "84114007"
	var abated time.Time
	if !chronicLike {
		abated = v.end.AddDate(0, 0, 14)
		if !abated.Before(g.ref) {
			abated = time.Time{}
		}
	}
	g.condition(v, c, chronicLike, abated)
	days := int(v.end.Sub(v.start).Hours()/24) + 1
	for d := range days {
		day := &visit{}
		*day = *v
		day.start = v.start.AddDate(0, 0, d)
		if day.start.After(v.end) {
			break
		}
		g.vitalSet(day, d == 0)
		if d == 0 {
			v.vitals = day.vitals
		}
		if d == 0 || d == days-1 {
			g.panel(day, panelCBC)
			g.panel(day, panelBMP)
			if d == 0 {
				v.results = append(v.results, day.results...)
			}
		}
		v.charges = day.charges // the stay's claim bills every day's labs
	}
	g.procedure(v, adm.proc, v.start.Add(time.Duration(2+g.r.IntN(20))*time.Hour), c)
	med := &medication{code: adm.med, reason: c, start: v.end}
	if chronicLike {
		g.p.meds = append(g.p.meds, med)
		g.medicationRequest(v, med, 365, "Take 1 tablet by mouth once daily")
	} else {
		g.medicationRequest(v, med, 10, "Take 1 tablet by mouth as directed")
	}
	planID := newID(g.r)
	g.carePlan(v, planID, sct("736372004", "Discharge care plan (record artifact)"), []code{sct("386463000", "Prescribed activity/exercise education")}, c, "", false)
	v.plan = append(v.plan, fmt.Sprintf("Discharged home in stable condition after %s.", plural(days, "day", "days")))
}

// therapy writes a physical therapy visit: pain improving visit by visit.
func (g *gen) therapy(v *visit, e *event) {
	ep := e.ep
	at := v.start.Add(5 * time.Minute)
	sys, dia := g.p.bpAt(g.r, at)
	bp := obj{
		{"code", obj{{"coding", arr{vSystolic.coding()}}, {"text", vSystolic.display}}},
		{"valueQuantity", obj{{"value", sys}, {"unit", "mm[Hg]"}, {"system", ucum}, {"code", "mm[Hg]"}}},
	}
	bp2 := obj{
		{"code", obj{{"coding", arr{vDiastol.coding()}}, {"text", vDiastol.display}}},
		{"valueQuantity", obj{{"value", dia}, {"unit", "mm[Hg]"}, {"system", ucum}, {"code", "mm[Hg]"}}},
	}
	g.obs(v, vBPPanel, at, "", nil, kv{"component", arr{bp, bp2}})
	_, hr := g.quantity(v, vHR, at, 78+g.r.NormFloat64()*7)
	progress := float64(e.n) / float64(max(ep.visits, 1))
	pain := max(0, min(10, int(math.Round(7-5*progress+g.r.NormFloat64()))))
	g.obs(v, vPain, at, "valueQuantity", obj{{"value", pain}, {"unit", "{score}"}, {"system", ucum}, {"code", "{score}"}})
	v.vitals = append(v.vitals, fmt.Sprintf("blood pressure %d/%d mmHg", sys, dia), fmt.Sprintf("heart rate %.0f/min", hr), fmt.Sprintf("pain %d/10", pain))
	if e.n == 1 {
		ongoing := !ep.ended.Before(g.ref.AddDate(0, 0, -7))
		g.goal(v, ep.goalID, "Return to independent walking and prior level of function", ep.reason, ongoing)
		g.carePlan(v, ep.planID, sct("773513001", "Physiotherapy care plan (record artifact)"), []code{procPT, procExercise}, ep.reason, ep.goalID, ongoing)
	}
	g.procedure(v, procPT, at, ep.reason)
	g.procedure(v, procExercise, at.Add(20*time.Minute), ep.reason)
	v.plan = append(v.plan, fmt.Sprintf("Therapy visit %d of %d for %s: pain %d/10; continue the home exercise program.", e.n, ep.visits, lower(ep.reason.code.display), pain))
}

// homeVisit writes a home health nursing visit.
func (g *gen) homeVisit(v *visit, e *event) {
	g.vitalSet(v, false)
	g.procedure(v, procVitalsHome, v.start.Add(5*time.Minute), e.ep.reason)
	g.procedure(v, procMedRec, v.start.Add(20*time.Minute), nil)
	if e.ep.reason.code.code == "5913000" {
		g.procedure(v, procWound, v.start.Add(30*time.Minute), e.ep.reason)
	}
	v.plan = append(v.plan, fmt.Sprintf("Home visit %d of %d after hospital stay for %s: medications reviewed with the patient.", e.n, e.ep.visits, lower(e.ep.reason.code.display)))
}

// goal writes a Goal.
func (g *gen) goal(v *visit, id, text string, c *condition, active bool) {
	status := "active"
	if !active {
		status = "completed"
	}
	o := obj{
		{"resourceType", "Goal"},
		{"id", id},
		{"meta", profile(usCore + "us-core-goal")},
		{"lifecycleStatus", status},
		{"description", obj{{"text", text}}},
		{"subject", g.patientRef()},
		{"startDate", date(v.start)},
		{"target", arr{obj{{"dueDate", date(v.start.AddDate(0, 6, 0))}}}},
		{"expressedBy", ref("Practitioner", v.who.id, v.who.name.text())},
		{"addresses", arr{ref("Condition", c.id, c.code.display)}},
	}
	g.emit("Goal", id, o)
}

// carePlan writes a CarePlan with its narrative (US Core requires one).
func (g *gen) carePlan(v *visit, id string, cat code, activities []code, c *condition, goalID string, active bool) {
	status, actStatus := "active", "in-progress"
	if !active {
		status, actStatus = "completed", "completed"
	}
	var acts arr
	var names []string
	for _, a := range activities {
		acts = append(acts, obj{{"detail", obj{{"code", a.concept()}, {"status", actStatus}, {"location", ref("Location", v.loc.id, v.loc.name)}}}})
		names = append(names, lower(a.display))
	}
	div := fmt.Sprintf(`<div xmlns="http://www.w3.org/1999/xhtml">Care plan for %s: %s. Activities: %s.</div>`,
		xmlEscape(g.p.name.text()), xmlEscape(lower(cat.display)), xmlEscape(sentence(names)))
	o := obj{
		{"resourceType", "CarePlan"},
		{"id", id},
		{"meta", profile(usCore + "us-core-careplan")},
		{"text", obj{{"status", "generated"}, {"div", div}}},
		{"status", status},
		{"intent", "plan"},
		{"category", arr{
			obj{{"coding", arr{code{"http://hl7.org/fhir/us/core/CodeSystem/careplan-category", "assess-plan", "Assessment and Plan of Treatment"}.coding()}}},
			cat.concept(),
		}},
		{"subject", g.patientRef()},
		{"encounter", g.encRef(v)},
		{"period", obj{{"start", dt(v.start)}}},
		{"author", ref("Practitioner", v.who.id, v.who.name.text())},
		{"addresses", arr{ref("Condition", c.id, c.code.display)}},
	}
	if goalID != "" {
		o = append(o, kv{"goal", arr{obj{{"reference", "Goal/" + goalID}}}})
	}
	o = append(o, kv{"activity", acts})
	g.emit("CarePlan", id, o)
}

func xmlEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '&':
			b = append(b, "&amp;"...)
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}

// serviceRequest writes a referral from v's organization to another.
func (g *gen) serviceRequest(v *visit, rf referral) {
	ep := rf.ep
	status := "completed"
	if !ep.ended.Before(g.ref.AddDate(0, 0, -7)) {
		status = "active"
	}
	what, performer := "physical therapy", sct("36682004", "Physiotherapist")
	if rf.kind == homeHealth {
		what, performer = "home health nursing", sct("224535009", "Registered nurse")
	}
	o := obj{
		{"resourceType", "ServiceRequest"},
		{"id", ep.referralID},
		{"status", status},
		{"intent", "order"},
		{"category", arr{sct("3457005", "Patient referral (procedure)").concept()}},
		{"code", obj{{"coding", arr{sct("3457005", "Patient referral (procedure)").coding()}}, {"text", "Referral for " + what}}},
		{"subject", g.patientRef()},
		{"encounter", g.encRef(v)},
		{"occurrencePeriod", obj{{"start", dt(v.end)}, {"end", dt(ep.ended)}}},
		{"authoredOn", dt(v.end)},
		{"requester", ref("Practitioner", v.who.id, v.who.name.text())},
		{"performerType", performer.concept()},
		{"performer", arr{ref("Organization", rf.to.id, rf.to.name)}},
		{"reasonReference", arr{ref("Condition", ep.reason.id, ep.reason.code.display)}},
		{"patientInstruction", fmt.Sprintf("%s will call you to schedule %s.", rf.to.name, plural(ep.visits, "visit", "visits"))},
	}
	g.emit("ServiceRequest", ep.referralID, o)
	v.refs = append(v.refs, fmt.Sprintf("referred to %s for %s (%s)", rf.to.name, what, plural(ep.visits, "visit", "visits")))
}
