package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Resource is one generated resource.
type Resource struct {
	Type string
	ID   string
	JSON []byte // one line, no trailing newline
}

// gen generates one patient's record.
type gen struct {
	r     *rand.Rand
	w     *world
	ref   time.Time
	p     *person
	out   []Resource
	buf   []byte
	given map[string]int // vaccine code → doses given
	last  map[string]time.Time
}

// event kinds.
type eventKind int

const (
	evWellness eventKind = iota
	evDiagnosis
	evFollowUp
	evAcute
	evAdmission
	evTherapy
	evHome
)

// event is a planned encounter.
type event struct {
	at    time.Time
	kind  eventKind
	cond  *condition
	acute *acute
	adm   *admission
	org   *org
	staff *clinician
	ep    *episode // therapy or home health series
	n     int      // visit number in the episode, from 1
}

// episode is a series of therapy or home health visits after a referral.
type episode struct {
	referralID string
	planID     string
	goalID     string
	reason     *condition
	visits     int
	ended      time.Time
}

// referral is a ServiceRequest a visit writes for an episode.
type referral struct {
	ep   *episode
	to   *org
	kind orgKind
}

// patientRecord generates patient n's demographics and history.
func patientRecord(w *world, seed uint64, n int, ref time.Time) (*person, []Resource) {
	r := rand.New(rand.NewPCG(seed, streamPatient+uint64(n)))
	g := &gen{r: r, w: w, ref: ref, given: map[string]int{}, last: map[string]time.Time{}}
	g.p = newPerson(r, w, ref)
	events, refs := g.plan()
	g.coverage()
	for i := range events {
		g.visit(&events[i], refs[&events[i]])
	}
	// The Patient names the MRN of every organization that saw the
	// patient, so it is written last and moved to the front.
	g.patient()
	last := g.out[len(g.out)-1]
	copy(g.out[1:], g.out[:len(g.out)-1])
	g.out[0] = last
	return g.p, g.out
}

// plan draws the encounters of the record, in time order, and the referrals
// some of them write.
func (g *gen) plan() ([]event, map[*event][]referral) {
	p, r := g.p, g.r
	years := 8 + r.Float64()*24
	start := g.ref.AddDate(0, 0, -int(years*365.25))
	if start.Before(p.birth) {
		start = p.birth.AddDate(0, 0, 3)
	}
	var evs []event
	add := func(e event) {
		if e.at.Before(start) || !e.at.Before(g.ref) {
			return
		}
		e.at = e.at.Truncate(24 * time.Hour).Add(time.Duration(8*60+r.IntN(9*60)) * time.Minute)
		if e.org == nil {
			e.org = p.clinic
		}
		evs = append(evs, e)
	}
	// Wellness: the pediatric schedule, then a yearly check-up most years.
	for _, m := range []int{0, 1, 2, 4, 6, 9, 12, 15, 18, 24, 30, 36} {
		add(event{at: p.birth.AddDate(0, m, 3+r.IntN(10)), kind: evWellness})
	}
	for y := 4; ; y++ {
		t := p.birth.AddDate(y, 0, r.IntN(60))
		if !t.Before(g.ref) {
			break
		}
		if y < 18 || r.IntN(100) < 85 {
			add(event{at: t, kind: evWellness})
		}
	}
	// Chronic conditions: diagnosis, then follow-ups.
	for _, c := range p.conds {
		if !c.onset.Before(start) {
			add(event{at: c.onset, kind: evDiagnosis, cond: c})
		}
		from := maxTime(c.onset, start)
		step := 365.25 / float64(c.chronic.visits)
		for t := from.AddDate(0, 0, int(step)); t.Before(g.ref); t = t.AddDate(0, 0, int(step*(0.8+0.4*r.Float64()))) {
			add(event{at: t, kind: evFollowUp, cond: c})
		}
	}
	// Acute illness: a Poisson process whose rate depends on age.
	for t := start; ; {
		a := p.ageYears(t)
		rate := 0.45
		if a < 6 {
			rate = 1.1
		} else if a > 65 {
			rate = 0.7
		}
		t = addYears(t, r.ExpFloat64()/rate)
		if !t.Before(g.ref) {
			break
		}
		ac := &acutes[r.IntN(len(acutes))]
		e := event{at: t, kind: evAcute, acute: ac}
		if ac.emergency || r.IntN(10) == 0 {
			e.org = p.hospital
			e.staff = p.hospital.staff[0]
		}
		add(e)
	}
	refs := map[*event][]referral{}
	type pendingRef struct {
		at  int // index of the event that refers
		ref referral
	}
	var pending []pendingRef
	episode := func(from int, kind orgKind, first time.Time, visits, everyDays int, reason *condition) {
		orgs := g.w.byKind[kind]
		if len(orgs) == 0 {
			return
		}
		to := pick(r, orgs)
		ep := &episode{referralID: newID(r), planID: newID(r), goalID: newID(r), reason: reason}
		staff := pick(r, to.staff)
		n := 0
		for i := range visits {
			t := first.AddDate(0, 0, i*everyDays+r.IntN(2))
			if !t.Before(g.ref) {
				break
			}
			n++
			kindEv := evTherapy
			if kind == homeHealth {
				kindEv = evHome
			}
			add(event{at: t, kind: kindEv, org: to, staff: staff, ep: ep, n: n})
			ep.ended = t
		}
		ep.visits = n
		if n > 0 {
			pending = append(pending, pendingRef{from, referral{ep: ep, to: to, kind: kind}})
		}
	}
	// Hospital stays, followed by rehabilitation or home health.
	for t := start; ; {
		a := p.ageYears(t)
		rate := 0.012 + 0.0015*max(0, a-40) + 0.015*float64(len(p.conds))
		t = addYears(t, r.ExpFloat64()/rate)
		if !t.Before(g.ref) {
			break
		}
		var fit []*admission
		for i := range admissions {
			if int(a) >= admissions[i].minAge {
				fit = append(fit, &admissions[i])
			}
		}
		adm := pick(r, fit)
		los := adm.days[0] + r.IntN(adm.days[1]-adm.days[0]+1)
		discharge := t.AddDate(0, 0, los)
		if !discharge.Before(g.ref) {
			break
		}
		before := len(evs)
		add(event{at: t, kind: evAdmission, adm: adm, org: p.hospital, staff: pick(r, p.hospital.staff[1:4])})
		if len(evs) == before {
			continue
		}
		idx := len(evs) - 1
		evs[idx].cond = &condition{id: newID(r), code: adm.code, onset: evs[idx].at}
		if adm.rehab {
			episode(idx, rehab, discharge.AddDate(0, 0, 7+r.IntN(7)), 6+r.IntN(7), 3, evs[idx].cond)
		}
		if adm.home {
			episode(idx, homeHealth, discharge.AddDate(0, 0, 1), 3+r.IntN(5), 7, evs[idx].cond)
		}
	}
	// Osteoarthritis and back trouble are referred to physical therapy.
	for _, c := range p.conds {
		if c.chronic.code.code == "239873007" && !c.onset.Before(start) && r.IntN(2) == 0 {
			before := len(evs)
			add(event{at: c.onset, kind: evFollowUp, cond: c})
			if len(evs) > before {
				episode(len(evs)-1, rehab, c.onset.AddDate(0, 0, 10+r.IntN(20)), 6+r.IntN(6), 4, c)
			}
		}
	}
	// Sort by time; keep the referring event's pointer stable by sorting
	// indexes.
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return evs[a].at.Compare(evs[b].at) })
	sorted := make([]event, len(evs))
	pos := make([]int, len(evs))
	for i, j := range order {
		sorted[i] = evs[j]
		pos[j] = i
	}
	for _, pr := range pending {
		e := &sorted[pos[pr.at]]
		refs[e] = append(refs[e], pr.ref)
	}
	// The first visit is at the clinic, so that the record starts with the
	// patient's history.
	return sorted, refs
}

// addYears adds a (possibly huge) number of years to t without overflowing
// time.Duration.
func addYears(t time.Time, y float64) time.Time {
	if y > 200 {
		y = 200
	}
	return t.Add(time.Duration(y * 365.25 * 24 * float64(time.Hour)))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// visit is the context of one encounter while its resources are written;
// its facts fill the note.
type visit struct {
	e        *event
	id       string
	org      *org
	loc      *location
	who      *clinician
	start    time.Time
	end      time.Time
	class    code
	typ      code
	reason   string
	reasonID string

	vitals  []string
	results []string
	dx      []string
	procs   []string
	meds    []string
	imms    []string
	refs    []string
	plan    []string
	charges []charge
}

var (
	classAMB  = code{actCode, "AMB", "ambulatory"}
	classEMER = code{actCode, "EMER", "emergency"}
	classIMP  = code{actCode, "IMP", "inpatient encounter"}
	classHH   = code{actCode, "HH", "home health"}
)

// visit writes one encounter and what happened in it.
func (g *gen) visit(e *event, refs []referral) {
	p, r := g.p, g.r
	v := &visit{e: e, id: newID(r), org: e.org, start: e.at, class: classAMB, who: e.staff}
	if v.who == nil {
		v.who = p.pcp
		if v.org != p.clinic {
			v.who = v.org.staff[0]
		}
	}
	v.loc = &v.org.locs[0]
	dur := time.Duration(15+5*r.IntN(6)) * time.Minute
	p.mrnAt(r, v.org)
	g.drift(e.at)
	switch e.kind {
	case evWellness:
		v.typ, v.reason = encCheckup, "routine health maintenance"
		if p.age(e.at) < 18 {
			v.typ = encWellness
		}
		dur += 15 * time.Minute
	case evDiagnosis:
		v.typ, v.reason = encSymptom, "symptoms later diagnosed as "+lower(e.cond.code.display)
	case evFollowUp:
		v.typ, v.reason = encFollowUp, "follow-up of "+lower(e.cond.code.display)
		v.reasonID = e.cond.id
	case evAcute:
		v.typ, v.reason = encSymptom, e.acute.reason
		if v.org.kind == hospital {
			v.class, v.typ, v.loc = classEMER, encED, &v.org.locs[0]
			dur = time.Duration(2+r.IntN(5)) * time.Hour
		}
	case evAdmission:
		v.class, v.typ, v.loc = classIMP, encInpat, &v.org.locs[1]
		v.reason = lower(e.adm.code.display)
		los := e.adm.days[0] + r.IntN(e.adm.days[1]-e.adm.days[0]+1)
		dur = time.Duration(los)*24*time.Hour + time.Duration(r.IntN(6))*time.Hour
	case evTherapy:
		v.typ, v.reason = encTherapy, "physical therapy"
		dur = 45 * time.Minute
	case evHome:
		v.class, v.typ, v.reason = classHH, encHome, "home health nursing visit"
		dur = time.Duration(40+r.IntN(30)) * time.Minute
	}
	v.end = v.start.Add(dur)
	if v.end.After(g.ref) {
		v.end = g.ref
	}
	g.encounter(v)

	// Problems known before the record begins are recorded on the first
	// visit to the clinic.
	if v.org == p.clinic {
		for _, c := range p.conds {
			if !c.recorded && c.onset.Before(v.start) {
				g.diagnose(v, c)
			}
		}
		if p.allergy >= 0 && !p.allergyRecorded {
			g.allergyIntolerance(v)
			p.allergyRecorded = true
		}
	}
	switch e.kind {
	case evWellness:
		g.vitalSet(v, true)
		g.wellness(v)
	case evDiagnosis:
		g.vitalSet(v, true)
		g.diagnose(v, e.cond)
		for _, l := range e.cond.chronic.labs {
			g.panel(v, l)
		}
	case evFollowUp:
		g.vitalSet(v, true)
		for _, l := range e.cond.chronic.labs {
			g.panel(v, l)
		}
		g.renew(v, e.cond)
		g.procedure(v, procMedRec, v.start, nil)
	case evAcute:
		g.vitalSet(v, false)
		g.acuteIllness(v, e.acute)
	case evAdmission:
		g.inpatient(v, e)
	case evTherapy:
		g.therapy(v, e)
	case evHome:
		g.homeVisit(v, e)
	}
	for _, rf := range refs {
		g.serviceRequest(v, rf)
	}
	g.note(v)
	g.claim(v, v.charges, "")
}

// drift moves the body mass index along a random walk between visits.
func (g *gen) drift(t time.Time) {
	p := g.p
	last, ok := g.last["bmi"]
	g.last["bmi"] = t
	if !ok || p.ageYears(t) < 18 {
		return
	}
	yrs := t.Sub(last).Hours() / 24 / 365.25
	p.bmi = max(17, min(48, p.bmi+g.r.NormFloat64()*0.6*math.Sqrt(yrs)+0.08*yrs))
}

func lower(s string) string {
	if i := strings.Index(s, " ("); i > 0 {
		s = s[:i]
	}
	if len(s) > 1 && s[1] >= 'a' && s[1] <= 'z' {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

// Formats of FHIR date and dateTime (https://hl7.org/fhir/R4/datatypes.html#dateTime).
func dt(t time.Time) string   { return t.UTC().Format("2006-01-02T15:04:05Z07:00") }
func date(t time.Time) string { return t.UTC().Format("2006-01-02") }

func ref(typ, id, display string) obj {
	return obj{{"reference", typ + "/" + id}}.add("display", display)
}

func (g *gen) patientRef() obj { return ref("Patient", g.p.id, g.p.name.text()) }

func profile(url string) obj {
	if url == "" {
		return nil
	}
	return obj{{"profile", []string{url}}}
}

const usCore = "http://hl7.org/fhir/us/core/StructureDefinition/"

// emit encodes a resource into the output.
func (g *gen) emit(typ, id string, o obj) {
	g.buf = appendJSON(g.buf[:0], o)
	g.out = append(g.out, Resource{Type: typ, ID: id, JSON: slices.Clone(g.buf)})
}

func sentence(items []string) string {
	switch len(items) {
	case 0:
		return "none"
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
