package ui

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Vital signs as FHIR Observations of the vital-signs profile
// (https://hl7.org/fhir/R4/observation-vitalsigns.html): category
// vital-signs, the profile's LOINC code, UCUM units.
const (
	loinc = "http://loinc.org"
	ucum  = "http://unitsofmeasure.org"
	// vitalProfile is the base R4 vital-signs profile.
	vitalProfile = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
	bpPanel      = "85354-9"
)

// vital is one field of Record vitals.
type vital struct {
	Field, Label     string
	Code, Display    string // LOINC
	Unit, UnitLabel  string // UCUM code and how it is shown
	Min, Max         float64
	Profile          string
	ExtraCode, Extra string // a second LOINC code the profile requires (SpO2)
}

var vitals = []vital{
	{Field: "systolic", Label: "Systolic", Code: "8480-6", Display: "Systolic blood pressure", Unit: "mm[Hg]", UnitLabel: "mmHg", Min: 40, Max: 300},
	{Field: "diastolic", Label: "Diastolic", Code: "8462-4", Display: "Diastolic blood pressure", Unit: "mm[Hg]", UnitLabel: "mmHg", Min: 20, Max: 200},
	{Field: "heartRate", Label: "Heart rate", Code: "8867-4", Display: "Heart rate", Unit: "/min", UnitLabel: "/min", Min: 20, Max: 300,
		Profile: "http://hl7.org/fhir/StructureDefinition/heartrate"},
	{Field: "weight", Label: "Weight", Code: "29463-7", Display: "Body weight", Unit: "kg", UnitLabel: "kg", Min: 0.2, Max: 500,
		Profile: "http://hl7.org/fhir/StructureDefinition/bodyweight"},
	{Field: "temperature", Label: "Temperature", Code: "8310-5", Display: "Body temperature", Unit: "Cel", UnitLabel: "°C", Min: 25, Max: 45,
		Profile: "http://hl7.org/fhir/StructureDefinition/bodytemp"},
	{Field: "spo2", Label: "SpO2", Code: "2708-6", Display: "Oxygen saturation in Arterial blood", Unit: "%", UnitLabel: "%", Min: 50, Max: 100,
		Profile: "http://hl7.org/fhir/StructureDefinition/oxygensat", ExtraCode: "59408-5", Extra: "Oxygen saturation in Arterial blood by Pulse oximetry"},
}

var vitalCategory = []codeableConcept{{Coding: []coding{{System: "http://terminology.hl7.org/CodeSystem/observation-category", Code: "vital-signs", Display: "Vital Signs"}}}}

type quantity struct {
	Value  json64 `json:"value"`
	Unit   string `json:"unit,omitempty"`
	System string `json:"system,omitempty"`
	Code   string `json:"code,omitempty"`
}

// json64 is a decimal written without exponent or trailing zeros.
type json64 float64

func (f json64) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(f), 'f', -1, 64)), nil
}

type component struct {
	Code          codeableConcept `json:"code"`
	ValueQuantity *quantity       `json:"valueQuantity,omitempty"`
}

type observationJSON struct {
	ResourceType string `json:"resourceType"`
	Meta         *struct {
		Profile []string `json:"profile"`
	} `json:"meta,omitempty"`
	Status            string            `json:"status"`
	Category          []codeableConcept `json:"category"`
	Code              codeableConcept   `json:"code"`
	Subject           reference         `json:"subject"`
	EffectiveDateTime string            `json:"effectiveDateTime"`
	Performer         []reference       `json:"performer,omitempty"`
	ValueQuantity     *quantity         `json:"valueQuantity,omitempty"`
	Component         []component       `json:"component,omitempty"`
}

func (v vital) quantity(x float64) *quantity {
	return &quantity{Value: json64(x), Unit: v.UnitLabel, System: ucum, Code: v.Unit}
}

func newObservation(profile, patient, performer string, at time.Time, codes ...coding) observationJSON {
	o := observationJSON{ResourceType: "Observation", Status: "final", Category: vitalCategory,
		Code: codeableConcept{Coding: codes}, Subject: reference{Reference: "Patient/" + patient},
		EffectiveDateTime: at.UTC().Format(time.RFC3339), Performer: []reference{{Reference: performer}}}
	if profile != "" {
		o.Meta = &struct {
			Profile []string `json:"profile"`
		}{Profile: []string{profile}}
	}
	return o
}

type vitalsForm struct {
	Values map[string]string
	Errors map[string]string
}

type vitalsData struct {
	Banner banner
	Fields []vital
	Form   vitalsForm
}

func (u *UI) vitalsForm(rw http.ResponseWriter, r *http.Request, usr *user) error {
	_, b, err := u.patientOf(r.Context(), usr, r.PathValue("id"))
	if err != nil {
		return err
	}
	u.render(rw, r, http.StatusOK, "vitals_record.html", page{Title: "Record vitals", User: usr,
		Data: vitalsData{Banner: b, Fields: vitals, Form: vitalsForm{Values: map[string]string{}, Errors: map[string]string{}}}})
	return nil
}

// recordVitals validates the entered values (a readable message beside
// each field, never a 500) and stores them as one transaction.
func (u *UI) recordVitals(rw http.ResponseWriter, r *http.Request, usr *user) error {
	id := r.PathValue("id")
	_, b, err := u.patientOf(r.Context(), usr, id)
	if err != nil {
		return err
	}
	f := vitalsForm{Values: map[string]string{}, Errors: map[string]string{}}
	got := map[string]float64{}
	for _, v := range vitals {
		s := strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get(v.Field), ",", "."))
		f.Values[v.Field] = s
		if s == "" {
			continue
		}
		x, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil:
			f.Errors[v.Field] = fmt.Sprintf("Enter %s as a number.", strings.ToLower(v.Label))
		case x < v.Min || x > v.Max:
			f.Errors[v.Field] = fmt.Sprintf("%s must be between %g and %g %s.", v.Label, v.Min, v.Max, v.UnitLabel)
		default:
			got[v.Field] = x
		}
	}
	_, sys := got["systolic"]
	_, dia := got["diastolic"]
	switch {
	case sys && !dia && f.Errors["diastolic"] == "":
		f.Errors["diastolic"] = "Enter the diastolic pressure with the systolic."
	case dia && !sys && f.Errors["systolic"] == "":
		f.Errors["systolic"] = "Enter the systolic pressure with the diastolic."
	case sys && dia && got["diastolic"] >= got["systolic"]:
		f.Errors["diastolic"] = "The diastolic pressure must be lower than the systolic."
	}
	msg := "Please correct the marked fields."
	if len(got) == 0 && len(f.Errors) == 0 {
		msg = "Enter at least one measurement."
	}
	if len(f.Errors) > 0 || len(got) == 0 {
		u.render(rw, r, formStatus, "vitals_record.html", page{Title: "Record vitals", User: usr, Error: msg,
			Data: vitalsData{Banner: b, Fields: vitals, Form: f}})
		return nil
	}
	now := u.opts.Now()
	var obs []any
	if sys && dia {
		o := newObservation("http://hl7.org/fhir/StructureDefinition/bp", id, usr.Ref, now,
			coding{System: loinc, Code: bpPanel, Display: "Blood pressure panel with all children optional"})
		for _, v := range vitals[:2] {
			o.Component = append(o.Component, component{Code: codeableConcept{Coding: []coding{{System: loinc, Code: v.Code, Display: v.Display}}},
				ValueQuantity: v.quantity(got[v.Field])})
		}
		obs = append(obs, o)
	}
	for _, v := range vitals[2:] {
		x, ok := got[v.Field]
		if !ok {
			continue
		}
		codes := []coding{{System: loinc, Code: v.Code, Display: v.Display}}
		if v.ExtraCode != "" {
			codes = append(codes, coding{System: loinc, Code: v.ExtraCode, Display: v.Extra})
		}
		o := newObservation(v.Profile, id, usr.Ref, now, codes...)
		o.ValueQuantity = v.quantity(x)
		obs = append(obs, o)
	}
	if err := u.rec.createAll(r.Context(), usr.Org, obs); err != nil {
		return err
	}
	http.Redirect(rw, r, "/patients/"+id+"?done=vitals", http.StatusSeeOther)
	return nil
}

// vitalItem is the latest value of one vital sign, with its trend.
type vitalItem struct {
	Label, Value, Date string
	Trend              []string // earlier values, newest first
	Points             string   // an SVG polyline of the values, oldest first
}

// latestVitals summarizes the patient's vital-sign Observations: the
// latest of each kind and up to ten earlier values, plotted.
func (u *UI) latestVitals(ctx context.Context, org, patient string) ([]vitalItem, error) {
	rs, err := u.rec.patientRecords(ctx, org, "Observation", patient, url.Values{"category": {"vital-signs"}, "_sort": {"-date"}}, vitalsRead)
	if err != nil {
		return nil, err
	}
	type point struct {
		at  string
		val float64
		txt string
	}
	series := map[string][]point{}
	label := map[string]string{bpPanel: "Blood pressure"}
	for _, v := range vitals {
		label[v.Code] = v.Label
	}
	label["8480-6"], label["8462-4"] = "Blood pressure", "Blood pressure"
	for _, r := range rs {
		var o struct {
			Status            string            `json:"status"`
			Category          []codeableConcept `json:"category"`
			Code              codeableConcept   `json:"code"`
			EffectiveDateTime string            `json:"effectiveDateTime"`
			ValueQuantity     *struct {
				Value float64 `json:"value"`
				Unit  string  `json:"unit"`
				Code  string  `json:"code"`
			} `json:"valueQuantity"`
			Component []struct {
				Code          codeableConcept `json:"code"`
				ValueQuantity *struct {
					Value float64 `json:"value"`
				} `json:"valueQuantity"`
			} `json:"component"`
		}
		if r.decode(&o) != nil || (o.Status != "final" && o.Status != "amended" && o.Status != "preliminary") {
			continue
		}
		isVital := slices.ContainsFunc(o.Category, func(c codeableConcept) bool {
			return c.has("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs")
		})
		if !isVital {
			continue
		}
		var key string
		for _, c := range o.Code.Coding {
			if c.System == loinc && label[c.Code] != "" {
				key = label[c.Code]
				break
			}
		}
		if key == "" {
			continue
		}
		if key == "Blood pressure" {
			var s, d float64
			for _, c := range o.Component {
				if c.ValueQuantity == nil {
					continue
				}
				if c.Code.has(loinc, "8480-6") {
					s = c.ValueQuantity.Value
				} else if c.Code.has(loinc, "8462-4") {
					d = c.ValueQuantity.Value
				}
			}
			if s == 0 || d == 0 {
				continue
			}
			series[key] = append(series[key], point{o.EffectiveDateTime, s, fmt.Sprintf("%g/%g mmHg", s, d)})
			continue
		}
		if o.ValueQuantity == nil {
			continue
		}
		unit := cmp.Or(o.ValueQuantity.Unit, o.ValueQuantity.Code)
		series[key] = append(series[key], point{o.EffectiveDateTime, o.ValueQuantity.Value, fmt.Sprintf("%g %s", o.ValueQuantity.Value, unit)})
	}
	var out []vitalItem
	for _, name := range []string{"Blood pressure", "Heart rate", "Weight", "Temperature", "SpO2"} {
		ps := series[name]
		if len(ps) == 0 {
			continue
		}
		slices.SortFunc(ps, func(a, b point) int { return cmp.Compare(b.at, a.at) })
		ps = ps[:min(11, len(ps))]
		it := vitalItem{Label: name, Value: ps[0].txt, Date: minute(ps[0].at)}
		for _, p := range ps[1:] {
			it.Trend = append(it.Trend, p.txt)
		}
		if len(ps) > 1 {
			it.Points = polyline(ps, func(p point) float64 { return p.val })
		}
		out = append(out, it)
	}
	return out, nil
}

// polyline plots values (newest first) left to right, oldest first, in a
// 100×30 box.
func polyline[T any](ps []T, val func(T) float64) string {
	lo, hi := val(ps[0]), val(ps[0])
	for _, p := range ps {
		lo, hi = min(lo, val(p)), max(hi, val(p))
	}
	span := hi - lo
	if span == 0 {
		span = 1
	}
	var b strings.Builder
	n := len(ps)
	for i := range n {
		p := ps[n-1-i]
		x := float64(i) * 100 / float64(n-1)
		y := 28 - (val(p)-lo)/span*26
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	return strings.TrimSpace(b.String())
}

// minute shows a dateTime to the minute: "2026-11-25 14:03".
func minute(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s
}

// vitalsRead is how many of the newest vital-sign Observations the chart
// reads: enough for the latest and ten earlier values of each kind when
// they are recorded together.
const vitalsRead = 120
