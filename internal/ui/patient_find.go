package ui

import (
	"net/http"
	"strings"
)

type findData struct {
	Q       string
	Matches []match
}

// findPatient answers the Find patient box: the organization's patients
// by name (one typo per word forgiven), birth date or MRN. Each result is
// a link named with the patient's name.
func (u *UI) findPatient(rw http.ResponseWriter, r *http.Request, usr *user) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	var ms []match
	if q != "" {
		var err error
		if ms, err = u.finder.find(r.Context(), usr.Org, q); err != nil {
			return err
		}
	}
	u.render(rw, r, http.StatusOK, "patient_find.html", page{Title: "Find patient", User: usr, Data: findData{Q: q, Matches: ms}})
	return nil
}
