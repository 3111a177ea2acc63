package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// payer is an insurer: a directory Organization that Coverages name.
type payer struct {
	id, name, typ string
	public        bool
}

func newPayers(r *rand.Rand) []payer {
	return []payer{
		{newID(r), "Medicare", "govt", true},
		{newID(r), "Medicaid", "govt", true},
		{newID(r), "Blue Harbor Health Plan", "ins", false},
		{newID(r), "Commonwealth Mutual Insurance", "ins", false},
	}
}

// coverage writes the patient's insurance: Medicare from 65, Medicaid for
// some, else one of the private plans.
func (g *gen) coverage() {
	p, r := g.p, g.r
	age := p.age(g.ref)
	var py payer
	switch {
	case age >= 65:
		py = g.w.payers[0]
	case r.IntN(5) == 0:
		py = g.w.payers[1]
	default:
		py = g.w.payers[2+r.IntN(len(g.w.payers)-2)]
	}
	p.coverageID, p.payer = newID(r), py
	start := g.ref.AddDate(-min(age, 30), 0, 0)
	if start.Before(p.birth) {
		start = p.birth
	}
	typ := code{actCode, "HIP", "health insurance plan policy"}
	if py.public {
		typ = code{actCode, "PUBLICPOL", "public healthcare"}
	}
	g.emit("Coverage", p.coverageID, obj{
		{"resourceType", "Coverage"},
		{"id", p.coverageID},
		{"status", "active"},
		{"type", typ.concept()},
		{"subscriberId", fmt.Sprintf("%c%09d", 'A'+r.IntN(26), r.IntN(1_000_000_000))},
		{"beneficiary", g.patientRef()},
		{"relationship", code{"http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self"}.concept()},
		{"period", obj{{"start", date(start)}}},
		{"payor", arr{ref("Organization", py.id, py.name)}},
	})
}

// charge is one line of a claim.
type charge struct {
	what  code
	price float64
}

func money(x float64) obj { return obj{{"value", dec{x, 2}}, {"currency", "USD"}} }

// claim writes a Claim and the payer's ExplanationOfBenefit for the
// encounter (institutional or professional) or for a prescription
// (pharmacy, when rx is not "").
func (g *gen) claim(v *visit, items []charge, rx string) {
	p, r := g.p, g.r
	id, eobID := newID(r), newID(r)
	claimType := code{"http://terminology.hl7.org/CodeSystem/claim-type", "professional", "Professional"}
	switch {
	case rx != "":
		claimType = code{"http://terminology.hl7.org/CodeSystem/claim-type", "pharmacy", "Pharmacy"}
	case v.class == classIMP || v.class == classEMER:
		claimType = code{"http://terminology.hl7.org/CodeSystem/claim-type", "institutional", "Institutional"}
	}
	created := v.end
	total := 0.0
	var lines, eobLines arr
	for i, c := range items {
		total += c.price
		line := obj{{"sequence", i + 1}, {"productOrService", c.what.concept()}}
		if rx == "" {
			line = append(line, kv{"encounter", arr{g.encRef(v)}})
		}
		line = append(line, kv{"net", money(c.price)})
		lines = append(lines, line)
		paid := math.Round(c.price*0.8*100) / 100
		eobLines = append(eobLines, obj{{"sequence", i + 1}, {"productOrService", c.what.concept()},
			{"adjudication", arr{
				obj{{"category", code{"http://terminology.hl7.org/CodeSystem/adjudication", "submitted", "Submitted Amount"}.concept()}, {"amount", money(c.price)}},
				obj{{"category", code{"http://terminology.hl7.org/CodeSystem/adjudication", "benefit", "Benefit Amount"}.concept()}, {"amount", money(paid)}},
			}}})
	}
	period := obj{{"start", dt(v.start)}, {"end", dt(v.end)}}
	provider := ref("Organization", v.org.id, v.org.name)
	insurance := arr{obj{{"sequence", 1}, {"focal", true}, {"coverage", ref("Coverage", p.coverageID, p.payer.name)}}}
	o := obj{
		{"resourceType", "Claim"},
		{"id", id},
		{"status", "active"},
		{"type", claimType.concept()},
		{"use", "claim"},
		{"patient", g.patientRef()},
		{"billablePeriod", period},
		{"created", dt(created)},
		{"insurer", ref("Organization", p.payer.id, p.payer.name)},
		{"provider", provider},
		{"priority", code{"http://terminology.hl7.org/CodeSystem/processpriority", "normal", "Normal"}.concept()},
	}
	if rx != "" {
		o = append(o, kv{"prescription", obj{{"reference", "MedicationRequest/" + rx}}})
	}
	o = append(o, kv{"insurance", insurance}, kv{"item", lines}, kv{"total", money(total)})
	g.emit("Claim", id, o)
	paid := math.Round(total*0.8*100) / 100
	g.emit("ExplanationOfBenefit", eobID, obj{
		{"resourceType", "ExplanationOfBenefit"},
		{"id", eobID},
		{"status", "active"},
		{"type", claimType.concept()},
		{"use", "claim"},
		{"patient", g.patientRef()},
		{"billablePeriod", period},
		{"created", dt(created.Add(time.Duration(1+r.IntN(20)) * 24 * time.Hour))},
		{"insurer", ref("Organization", p.payer.id, p.payer.name)},
		{"provider", provider},
		{"claim", obj{{"reference", "Claim/" + id}}},
		{"outcome", "complete"},
		{"insurance", arr{obj{{"focal", true}, {"coverage", ref("Coverage", p.coverageID, p.payer.name)}}}},
		{"item", eobLines},
		{"total", arr{
			obj{{"category", code{"http://terminology.hl7.org/CodeSystem/adjudication", "submitted", "Submitted Amount"}.concept()}, {"amount", money(total)}},
			obj{{"category", code{"http://terminology.hl7.org/CodeSystem/adjudication", "benefit", "Benefit Amount"}.concept()}, {"amount", money(paid)}},
		}},
		{"payment", obj{{"amount", money(paid)}}},
	})
}

// price draws a plausible charge for a kind of service.
func (g *gen) price(base float64) float64 {
	return math.Round(base*(0.7+0.6*g.r.Float64())*100) / 100
}
