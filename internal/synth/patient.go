package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// person is a patient and the state of their body and record while their
// history is generated.
type person struct {
	id      string
	gender  string // administrative gender: male, female
	birth   time.Time
	name    name
	race    code
	ethnic  code
	city    city
	street  string
	phone   string
	marital code
	spanish bool

	clinic   *org
	hospital *org
	pcp      *clinician
	mrns     []mrn // one per organization that has seen the patient, in order of first visit

	// Physiology: adult height, body mass index drifting over time, blood
	// pressure offset, a lab offset per analyte.
	adultHeight float64
	bmi         float64
	bpOffset    float64
	smoking     code
	drinks      int
	labBias     map[string]float64

	conds           []*condition
	meds            []*medication
	allergy         int // index into allergies, -1 for none
	allergyRecorded bool

	coverageID string
	payer      payer
}

type mrn struct {
	org   *org
	value string
}

// condition is a diagnosed condition.
type condition struct {
	id       string
	chronic  *chronic
	code     code
	onset    time.Time
	abated   time.Time // zero while active
	planID   string
	goalID   string
	recorded bool
}

// medication is a medication the patient takes.
type medication struct {
	code   code
	reason *condition
	start  time.Time
}

// age returns the person's age in whole years at t.
func (p *person) age(t time.Time) int {
	a := t.Year() - p.birth.Year()
	if t.YearDay() < p.birth.YearDay() {
		a--
	}
	return max(a, 0)
}

func (p *person) ageYears(t time.Time) float64 {
	return t.Sub(p.birth).Hours() / 24 / 365.25
}

// has reports whether p has chronic condition c active at t.
func (p *person) has(c *chronic, t time.Time) *condition {
	for _, k := range p.conds {
		if k.chronic == c && !k.onset.After(t) {
			return k
		}
	}
	return nil
}

// mrnAt returns the patient's medical record number at o, issuing one on
// the first visit.
func (p *person) mrnAt(r *rand.Rand, o *org) {
	for _, m := range p.mrns {
		if m.org == o {
			return
		}
	}
	p.mrns = append(p.mrns, mrn{o, fmt.Sprintf("%c%07d", 'A'+o.n%26, r.IntN(10_000_000))})
}

var races = []struct {
	c code
	w float64
}{
	{code{ombRace, "2106-3", "White"}, 0.70}, {code{ombRace, "2054-5", "Black or African American"}, 0.13},
	{code{ombRace, "2028-9", "Asian"}, 0.10}, {code{ombRace, "1002-5", "American Indian or Alaska Native"}, 0.02},
	{code{ombRace, "2076-8", "Native Hawaiian or Other Pacific Islander"}, 0.01}, {code{ombRace, "2131-1", "Other Race"}, 0.04},
}

var (
	hispanic    = code{ombRace, "2135-2", "Hispanic or Latino"}
	notHispanic = code{ombRace, "2186-5", "Not Hispanic or Latino"}
	maritalSys  = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
)

// newPerson draws a patient's demographics, physiology and the conditions
// they will have.
func newPerson(r *rand.Rand, w *world, ref time.Time) *person {
	p := &person{id: newID(r), gender: "female", allergy: -1}
	if r.IntN(100) < 49 {
		p.gender = "male"
	}
	// Ages 0–95, weighted like a clinic's panel: fewer children and very
	// old.
	ageDays := int((5 + r.Float64()*80 + r.NormFloat64()*8) * 365.25)
	ageDays = max(30, min(ageDays, 96*365))
	p.birth = ref.AddDate(0, 0, -ageDays).Truncate(24 * time.Hour)
	p.name = randomName(r, p.gender)
	x := r.Float64()
	for _, rc := range races {
		if x -= rc.w; x < 0 || rc.c.code == "2131-1" {
			p.race = rc.c
			break
		}
	}
	p.ethnic = notHispanic
	if r.IntN(100) < 18 {
		p.ethnic = hispanic
		p.spanish = r.IntN(3) == 0
	}
	p.city = pick(r, cities)
	p.street = fmt.Sprintf("%d %s", 1+r.IntN(999), pick(r, streets))
	if r.IntN(4) == 0 {
		p.street += fmt.Sprintf(" Apt %d", 1+r.IntN(40))
	}
	p.phone = phone(r, p.city)
	age := p.age(ref)
	switch {
	case age < 18:
		p.marital = code{maritalSys, "S", "Never Married"}
	default:
		p.marital = pick(r, []code{{maritalSys, "M", "Married"}, {maritalSys, "S", "Never Married"},
			{maritalSys, "D", "Divorced"}, {maritalSys, "W", "Widowed"}, {maritalSys, "M", "Married"}})
	}
	if p.gender == "female" && p.marital.code == "M" && r.IntN(3) == 0 {
		p.name.family = pick(r, families) // the married name; US Core keeps one official name here
	}

	// Care: a primary care clinic and the nearest hospital.
	p.clinic = pick(r, w.byKind[clinic])
	p.hospital = pick(r, w.byKind[hospital])
	doctors := slices.DeleteFunc(slices.Clone(p.clinic.staff), func(c *clinician) bool { return c.nurse })
	p.pcp = pick(r, doctors)

	// Physiology.
	if p.gender == "male" {
		p.adultHeight = 176 + r.NormFloat64()*7
	} else {
		p.adultHeight = 163 + r.NormFloat64()*6.5
	}
	p.bmi = 24 + r.NormFloat64()*4
	p.bpOffset = r.NormFloat64() * 8
	p.labBias = map[string]float64{}
	switch s := r.Float64(); {
	case age < 15:
		p.smoking = neverSmoker
	case s < 0.14:
		p.smoking = curSmoker
	case s < 0.35:
		p.smoking = exSmoker
	default:
		p.smoking = neverSmoker
	}
	p.drinks = max(0, int(r.NormFloat64()*1.2+0.8))
	if r.IntN(100) < 25 {
		p.allergy = r.IntN(len(allergies))
	}

	// Chronic conditions: which ones by the reference date, and when each
	// began.
	for i := range chronics {
		c := &chronics[i]
		prob := c.prevalent(age)
		if c.code.code == "13645005" && p.smoking.code == neverSmoker.code {
			prob /= 4
		}
		if c.code.code == "44054006" && p.bmi > 30 {
			prob *= 2
		}
		if age < c.onsetMin || r.Float64() >= prob {
			continue
		}
		onsetAge := float64(c.onsetMin) + r.Float64()*float64(age-c.onsetMin)
		onset := p.birth.Add(time.Duration(onsetAge * 365.25 * 24 * float64(time.Hour))).Truncate(24 * time.Hour)
		p.conds = append(p.conds, &condition{id: newID(r), chronic: c, code: c.code, onset: onset, planID: newID(r), goalID: newID(r)})
		if c.code.code == "38341003" {
			p.bpOffset += 12
		}
	}
	return p
}

// heightAt returns the body height in cm at t: a growth curve to the adult
// height, then slow shrinking after 60.
func (p *person) heightAt(t time.Time) float64 {
	a := p.ageYears(t)
	ages := []float64{0, 1, 2, 5, 10, 14, 18}
	frac := []float64{0.29, 0.43, 0.50, 0.63, 0.80, 0.93, 1}
	if a >= 18 {
		shrink := max(0, a-60) * 0.1
		return p.adultHeight - shrink
	}
	for i := 1; i < len(ages); i++ {
		if a < ages[i] {
			f := frac[i-1] + (frac[i]-frac[i-1])*(a-ages[i-1])/(ages[i]-ages[i-1])
			return p.adultHeight * f
		}
	}
	return p.adultHeight
}

// bmiAt returns the body mass index at t, which drifts slowly with the
// visit's random walk (p.bmi) and is lower in childhood.
func (p *person) bmiAt(t time.Time) float64 {
	a := p.ageYears(t)
	if a < 18 {
		return 15.5 + a*0.15 + (p.bmi-24)*a/36
	}
	return p.bmi
}

// bpAt returns systolic and diastolic pressure at t, rising with age and
// with untreated hypertension.
func (p *person) bpAt(r *rand.Rand, t time.Time) (int, int) {
	a := p.ageYears(t)
	sys := 100 + min(a, 18)*0.6 + max(0, a-30)*0.45 + r.NormFloat64()*6
	if a >= 18 {
		sys += p.bpOffset
		if k := p.has(&chronics[0], t); k == nil && p.bpOffset > 10 {
			sys -= 10 // not hypertensive yet
		} else if k != nil && t.Sub(k.onset) > 60*24*time.Hour {
			sys -= 12 // treated
		}
	}
	dia := sys*0.62 + r.NormFloat64()*4
	return int(math.Round(sys)), int(math.Round(dia))
}
