package ui

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Clinical notes are DocumentReferences with the text as a Markdown
// attachment (docs/decisions/0010-notes.md): docStatus preliminary while a
// draft (shown only to its author), final once signed (immutable: the
// interaction layer refuses every change), and addenda are new
// DocumentReferences that relatesTo "appends" the note
// (https://hl7.org/fhir/R4/documentreference.html).

// noteTemplate is one choice of the Template select.
type noteTemplate struct {
	Key, Title string
	Code       coding // LOINC document type
	Sections   []string
}

var noteTemplates = []noteTemplate{
	{Key: "soap", Title: "SOAP progress note", Code: coding{System: loinc, Code: "11506-3", Display: "Progress note"},
		Sections: []string{"Subjective", "Objective", "Assessment", "Plan"}},
	{Key: "hp", Title: "History and physical", Code: coding{System: loinc, Code: "34117-2", Display: "History and physical note"},
		Sections: []string{"Chief complaint", "History of present illness", "Past medical history", "Medications", "Allergies",
			"Family history", "Social history", "Review of systems", "Physical examination", "Assessment", "Plan"}},
	{Key: "discharge", Title: "Discharge summary", Code: coding{System: loinc, Code: "18842-5", Display: "Discharge summary"},
		Sections: []string{"Admission diagnosis", "Hospital course", "Procedures", "Discharge diagnosis", "Discharge medications",
			"Condition at discharge", "Follow-up", "Patient instructions"}},
	{Key: "pt-eval", Title: "Physical-therapy evaluation", Code: coding{System: loinc, Code: "28636-9", Display: "Initial evaluation note"},
		Sections: []string{"Referral and history", "Subjective", "Pain", "Range of motion", "Strength", "Function and mobility",
			"Assessment", "Goals", "Plan of care"}},
	{Key: "pt-daily", Title: "Physical-therapy daily note", Code: coding{System: loinc, Code: "11506-3", Display: "Progress note"},
		Sections: []string{"Subjective", "Interventions", "Patient response", "Assessment", "Plan"}},
}

func templateByKey(key string) (noteTemplate, bool) {
	for _, t := range noteTemplates {
		if t.Key == key {
			return t, true
		}
	}
	return noteTemplates[0], false
}

// templateByTitle finds a stored note's template by its description.
func templateByTitle(title string) noteTemplate {
	for _, t := range noteTemplates {
		if t.Title == title {
			return t
		}
	}
	return noteTemplates[0]
}

type attachment struct {
	ContentType string `json:"contentType,omitempty"`
	Data        []byte `json:"data,omitempty"` // base64 in JSON
	Title       string `json:"title,omitempty"`
	Creation    string `json:"creation,omitempty"`
}

type relatesTo struct {
	Code   string    `json:"code"`
	Target reference `json:"target"`
}

type documentReference struct {
	ResourceType  string            `json:"resourceType"`
	ID            string            `json:"id,omitempty"`
	Status        string            `json:"status"`
	DocStatus     string            `json:"docStatus,omitempty"`
	Type          *codeableConcept  `json:"type,omitempty"`
	Category      []codeableConcept `json:"category,omitempty"`
	Subject       *reference        `json:"subject,omitempty"`
	Date          string            `json:"date,omitempty"`
	Author        []reference       `json:"author,omitempty"`
	Authenticator *reference        `json:"authenticator,omitempty"`
	Custodian     *reference        `json:"custodian,omitempty"`
	RelatesTo     []relatesTo       `json:"relatesTo,omitempty"`
	Description   string            `json:"description,omitempty"`
	Content       []struct {
		Attachment attachment `json:"attachment"`
	} `json:"content"`
}

// clinicalNote is the category of every note
// (http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category).
var clinicalNote = codeableConcept{Coding: []coding{{System: "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
	Code: "clinical-note", Display: "Clinical Note"}}}

const noteContentType = "text/markdown; charset=utf-8"

// text is the note's text.
func (d *documentReference) text() string {
	for _, c := range d.Content {
		if len(c.Attachment.Data) > 0 {
			return string(c.Attachment.Data)
		}
	}
	return ""
}

func (d *documentReference) author() string {
	if len(d.Author) == 0 {
		return ""
	}
	return d.Author[0].Reference
}

func (d *documentReference) signed() bool { return d.DocStatus == "final" || d.DocStatus == "amended" }

// appends returns the note an addendum appends to, "" for a note.
func (d *documentReference) appends() string {
	for _, r := range d.RelatesTo {
		if r.Code == "appends" {
			return strings.TrimPrefix(r.Target.Reference, "DocumentReference/")
		}
	}
	return ""
}

// compose writes the sections as Markdown: "## Name" then the text.
// Empty sections are left out of a signed note.
func compose(t noteTemplate, values map[string]string) string {
	var b strings.Builder
	for _, s := range t.Sections {
		v := strings.TrimSpace(strings.ReplaceAll(values[s], "\r\n", "\n"))
		if v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("## " + s + "\n\n" + v)
	}
	return b.String()
}

// decompose is the inverse of compose for editing a draft: text under a
// heading that is not one of the template's sections stays with the
// section before it.
func decompose(t noteTemplate, text string) map[string]string {
	out := map[string]string{}
	cur := t.Sections[0]
	var buf []string
	flush := func() {
		out[cur] = strings.TrimSpace(strings.Join(append(strings.Split(out[cur], "\n"), buf...), "\n"))
		buf = nil
	}
	for _, line := range strings.Split(text, "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok && slices.Contains(t.Sections, h) {
			flush()
			cur = h
			continue
		}
		buf = append(buf, line)
	}
	flush()
	return out
}

// noteItem is a note in a list.
type noteItem struct {
	ID, Title, Date, Author, Patient string
	Draft                            bool
	Addenda                          int
}

// notes lists the notes of a patient (all patients for patient ""):
// signed notes and the user's own drafts — another author's draft is not
// shown — newest first, addenda counted under their note.
func (u *UI) notes(r *http.Request, usr *user, patient string) ([]noteItem, error) {
	ctx := r.Context()
	var rs []resource
	var err error
	if patient != "" {
		rs, err = u.rec.patientRecords(ctx, usr.Org, "DocumentReference", patient, url.Values{"_sort": {"-date"}}, maxList)
	} else {
		rs, err = u.rec.drafts(ctx, usr.Org, usr.Ref)
	}
	if err != nil {
		return nil, err
	}
	addenda := map[string]int{}
	var docs []struct {
		r resource
		d documentReference
	}
	for _, res := range rs {
		var d documentReference
		if res.decode(&d) != nil || d.Status == "entered-in-error" || res.Org != usr.Org {
			continue
		}
		if !d.signed() && d.author() != usr.Ref {
			continue // drafts are their author's alone
		}
		if to := d.appends(); to != "" {
			addenda[to]++
			continue
		}
		docs = append(docs, struct {
			r resource
			d documentReference
		}{res, d})
	}
	names := nameCache{u: u, ctx: ctx, names: map[string]string{}}
	var out []noteItem
	for _, x := range docs {
		it := noteItem{ID: x.r.ID, Title: cmp.Or(x.d.Description, x.d.Type.String(), "Note"), Date: minute(x.d.Date),
			Author: names.of(x.d.author()), Draft: !x.d.signed(), Addenda: addenda[x.r.ID]}
		if patient == "" && x.d.Subject != nil {
			it.Patient = names.of(x.d.Subject.Reference)
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b noteItem) int { return cmp.Compare(b.Date, a.Date) })
	return out, nil
}

// nameCache names practitioners and patients for lists, reading each once.
type nameCache struct {
	u     *UI
	ctx   context.Context
	names map[string]string
}

func (c nameCache) of(ref string) string {
	if ref == "" {
		return ""
	}
	if n, ok := c.names[ref]; ok {
		return n
	}
	n := ref
	if typ, id, ok := strings.Cut(ref, "/"); ok && (typ == "Practitioner" || typ == "Patient") {
		if res, err := c.u.rec.read(c.ctx, typ, id); err == nil {
			var p patientJSON // Practitioner.name has the same shape
			if res.decode(&p) == nil && len(p.Name) > 0 {
				n = p.displayName()
			}
		}
	}
	c.names[ref] = n
	return n
}

// newNoteResource builds a note's DocumentReference.
func newNoteResource(t noteTemplate, patient, author, org, text string, sign bool, now time.Time) documentReference {
	d := documentReference{ResourceType: "DocumentReference", Status: "current", DocStatus: "preliminary",
		Type: &codeableConcept{Coding: []coding{t.Code}, Text: t.Title}, Category: []codeableConcept{clinicalNote},
		Subject: &reference{Reference: "Patient/" + patient}, Date: now.UTC().Format(time.RFC3339),
		Author: []reference{{Reference: author}}, Custodian: &reference{Reference: "Organization/" + org}, Description: t.Title}
	d.Content = append(d.Content, struct {
		Attachment attachment `json:"attachment"`
	}{attachment{ContentType: noteContentType, Data: []byte(text), Title: t.Title, Creation: now.UTC().Format(time.RFC3339)}})
	if sign {
		d.DocStatus = "final"
		d.Authenticator = &reference{Reference: author}
	}
	return d
}

// textSection is a heading and its text, for showing a note.
type textSection struct{ Heading, Text string }

// sectionsForDisplay splits a note's Markdown at its "## " headings.
func sectionsForDisplay(text string) []textSection {
	var out []textSection
	cur := textSection{}
	var buf []string
	flush := func() {
		cur.Text = strings.TrimSpace(strings.Join(buf, "\n"))
		if cur.Heading != "" || cur.Text != "" {
			out = append(out, cur)
		}
		buf = nil
	}
	for _, line := range strings.Split(text, "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			flush()
			cur = textSection{Heading: strings.TrimSpace(h)}
			continue
		}
		buf = append(buf, line)
	}
	flush()
	return out
}
