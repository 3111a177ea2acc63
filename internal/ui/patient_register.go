package ui

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

type registerForm struct {
	Given, Family, BirthDate, Sex, Phone, Email, Line, City, PostalCode string
	Errors                                                              map[string]string
	Duplicates                                                          []*entry
}

var sexes = []struct{ Code, Label string }{{"female", "Female"}, {"male", "Male"}, {"other", "Other"}, {"unknown", "Unknown"}}

type registerData struct {
	Form  registerForm
	Sexes []struct{ Code, Label string }
}

func (u *UI) registerForm(rw http.ResponseWriter, r *http.Request, usr *user) error {
	u.render(rw, r, http.StatusOK, "patient_register.html", page{Title: "Register patient", User: usr, Data: registerData{Sexes: sexes}})
	return nil
}

func formOf(r *http.Request) registerForm {
	f := r.PostForm
	g := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	return registerForm{Given: g("given"), Family: g("family"), BirthDate: g("birthDate"), Sex: g("sex"), Phone: g("phone"),
		Email: g("email"), Line: g("line"), City: g("city"), PostalCode: g("postalCode"), Errors: map[string]string{}}
}

// check validates the form the way a registration clerk needs: every
// problem named next to its field.
func (f *registerForm) check(now time.Time) {
	if f.Given == "" {
		f.Errors["given"] = "Enter the given name."
	}
	if f.Family == "" {
		f.Errors["family"] = "Enter the family name."
	}
	for k, v := range map[string]string{"given": f.Given, "family": f.Family, "line": f.Line, "city": f.City} {
		if len(v) > 200 {
			f.Errors[k] = "This is too long (200 characters at most)."
		}
	}
	if b, err := time.Parse("2006-01-02", f.BirthDate); err != nil {
		f.Errors["birthDate"] = "Enter the birth date as YYYY-MM-DD."
	} else if b.After(now) || b.Year() < 1880 {
		f.Errors["birthDate"] = "The birth date must be in the past."
	}
	if sexLabel(f.Sex) == "" {
		f.Errors["sex"] = "Choose the sex."
	}
	if f.Email != "" && (!strings.Contains(f.Email, "@") || strings.ContainsAny(f.Email, " \t")) {
		f.Errors["email"] = "Enter an email address like name@example.org."
	}
}

// register creates the Patient with a new MRN of the organization, after
// warning about likely duplicates (same birth date and a similar name) —
// a warning the user may confirm past.
func (u *UI) register(rw http.ResponseWriter, r *http.Request, usr *user) error {
	f := formOf(r)
	f.check(u.opts.Now())
	data := registerData{Sexes: sexes}
	if len(f.Errors) > 0 {
		data.Form = f
		u.render(rw, r, formStatus, "patient_register.html", page{Title: "Register patient", User: usr,
			Error: "Please correct the marked fields.", Data: data})
		return nil
	}
	if r.PostForm.Get("confirm") != "different-person" {
		dups, err := u.duplicates(r, usr, f)
		if err != nil {
			return err
		}
		if len(dups) > 0 {
			f.Duplicates = dups
			data.Form = f
			u.render(rw, r, http.StatusOK, "patient_register.html", page{Title: "Register patient", User: usr, Data: data})
			return nil
		}
	}
	p := patientJSON{ResourceType: "Patient", Active: new(true), Gender: f.Sex, BirthDate: f.BirthDate,
		Name: []humanName{{Use: "official", Family: f.Family, Given: strings.Fields(f.Given)}}}
	if f.Phone != "" {
		p.Telecom = append(p.Telecom, contactPoint{System: "phone", Value: f.Phone})
	}
	if f.Email != "" {
		p.Telecom = append(p.Telecom, contactPoint{System: "email", Value: f.Email})
	}
	if f.Line != "" || f.City != "" || f.PostalCode != "" {
		a := address{City: f.City, PostalCode: f.PostalCode}
		if f.Line != "" {
			a.Line = []string{f.Line}
		}
		p.Address = []address{a}
	}
	system := mrnSystemPrefix + usr.Org
	// A new random MRN, created only if no patient has it (conditional
	// create: the check and the write are one transaction).
	for range 5 {
		mrn, err := newMRN()
		if err != nil {
			return err
		}
		p.Identifier = []identifier{{Use: "usual", Type: mrnType, System: system, Value: mrn}}
		res, existing, err := u.rec.create(r.Context(), usr.Org, "Patient", p, identifierQuery(system, mrn))
		if err != nil {
			return err
		}
		if !existing {
			http.Redirect(rw, r, "/patients/"+res.ID, http.StatusSeeOther)
			return nil
		}
	}
	return outcome.New(outcome.Conflict, "conflict", "Could not allocate a new medical record number; please try again.")
}

// newMRN is 8 random digits, the first not 0.
func newMRN() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(90_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprint(10_000_000 + n.Int64()), nil
}

// duplicates are the organization's patients born the same day whose
// family and given names are each at most one edit from the form's (or
// swapped), or that share the phone or email.
func (u *UI) duplicates(r *http.Request, usr *user, f registerForm) ([]*entry, error) {
	entries, err := u.finder.refresh(r.Context(), usr.Org)
	if err != nil {
		return nil, err
	}
	family, given := words(f.Family), words(f.Given)
	similar := func(ws []string, e *entry) bool {
		for _, w := range ws {
			for _, x := range e.words {
				if withinOne(w, x) {
					return true
				}
			}
		}
		return len(ws) == 0
	}
	var out []*entry
	for _, e := range entries {
		if e.BirthDate == f.BirthDate && similar(family, e) && similar(given, e) {
			out = append(out, e)
		}
	}
	return out, nil
}
