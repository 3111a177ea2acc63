package ui

import (
	"fmt"
	"strings"
	"time"
)

// The FHIR shapes the pages read and write, as far as they use them
// (https://hl7.org/fhir/R4/datatypes.html).

type coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

type codeableConcept struct {
	Coding []coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// String is what a page shows of a concept.
func (c *codeableConcept) String() string {
	if c == nil {
		return ""
	}
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Display
		}
	}
	for _, cd := range c.Coding {
		if cd.Code != "" {
			return cd.Code
		}
	}
	return ""
}

func (c *codeableConcept) has(system, code string) bool {
	if c == nil {
		return false
	}
	for _, cd := range c.Coding {
		if cd.System == system && cd.Code == code {
			return true
		}
	}
	return false
}

type reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

type identifier struct {
	Use    string           `json:"use,omitempty"`
	Type   *codeableConcept `json:"type,omitempty"`
	System string           `json:"system,omitempty"`
	Value  string           `json:"value,omitempty"`
}

type humanName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

type contactPoint struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
	Use    string `json:"use,omitempty"`
}

type address struct {
	Use        string   `json:"use,omitempty"`
	Line       []string `json:"line,omitempty"`
	City       string   `json:"city,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country,omitempty"`
}

type patientJSON struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id,omitempty"`
	Identifier   []identifier   `json:"identifier,omitempty"`
	Active       *bool          `json:"active,omitempty"`
	Name         []humanName    `json:"name,omitempty"`
	Telecom      []contactPoint `json:"telecom,omitempty"`
	Gender       string         `json:"gender,omitempty"`
	BirthDate    string         `json:"birthDate,omitempty"`
	Address      []address      `json:"address,omitempty"`
}

// mrnSystemPrefix + organization id is the identifier system of an
// organization's medical record numbers.
const mrnSystemPrefix = "urn:continuum:mrn:"

// mrnType is the v2 identifier type "MR" (https://terminology.hl7.org/CodeSystem-v2-0203.html).
var mrnType = &codeableConcept{Coding: []coding{{System: "http://terminology.hl7.org/CodeSystem/v2-0203", Code: "MR", Display: "Medical record number"}}}

// mrn returns the first medical record number.
func (p *patientJSON) mrn() string {
	for _, id := range p.Identifier {
		if strings.HasPrefix(id.System, mrnSystemPrefix) || id.Type.has("http://terminology.hl7.org/CodeSystem/v2-0203", "MR") {
			return id.Value
		}
	}
	return ""
}

// displayName is "Given Given Family" of the official (or first) name, the
// way the patient is addressed and the way the registration form asked.
func (p *patientJSON) displayName() string {
	if len(p.Name) == 0 {
		return "(no name)"
	}
	n := p.Name[0]
	for _, x := range p.Name {
		if x.Use == "official" {
			n = x
			break
		}
	}
	if n.Family == "" && len(n.Given) == 0 {
		if n.Text != "" {
			return n.Text
		}
		return "(no name)"
	}
	given := strings.Join(n.Given, " ")
	switch {
	case n.Family == "":
		return given
	case given == "":
		return n.Family
	}
	return given + " " + n.Family
}

// age in whole years at now, "" when the birth date is unknown or partial.
func age(birthDate string, now time.Time) string {
	b, err := time.Parse("2006-01-02", birthDate)
	if err != nil {
		return ""
	}
	y := now.Year() - b.Year()
	if now.Month() < b.Month() || (now.Month() == b.Month() && now.Day() < b.Day()) {
		y--
	}
	if y < 2 {
		months := (now.Year()-b.Year())*12 + int(now.Month()-b.Month())
		if now.Day() < b.Day() {
			months--
		}
		return fmt.Sprintf("%d mo", max(months, 0))
	}
	return fmt.Sprintf("%d y", y)
}

// sexLabel is the label of an administrative gender code.
func sexLabel(code string) string {
	switch code {
	case "female":
		return "Female"
	case "male":
		return "Male"
	case "other":
		return "Other"
	case "unknown":
		return "Unknown"
	}
	return ""
}

// banner is the patient banner of every chart page.
type banner struct {
	ID, Name, BirthDate, Age, Sex, MRN string
	Allergies                          []string
}

func patientBanner(r resource, now time.Time) (banner, patientJSON, error) {
	var p patientJSON
	if err := r.decode(&p); err != nil {
		return banner{}, p, err
	}
	return banner{ID: r.ID, Name: p.displayName(), BirthDate: p.BirthDate, Age: age(p.BirthDate, now),
		Sex: sexLabel(p.Gender), MRN: p.mrn()}, p, nil
}
