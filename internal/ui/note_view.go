package ui

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// noteVersion is one version of a note, for its history.
type noteVersion struct {
	Version, Status, Date string
	Text                  []textSection
}

type noteViewData struct {
	Banner  banner
	ID      string
	Title   string
	Text    []textSection
	Author  string
	Signed  string // when, "" for a draft
	Draft   bool
	Addenda []noteViewAddendum
	History []noteVersion
	Form    string // the addendum being written, after an error
}

type noteViewAddendum struct {
	ID, Text, Author, Signed string
}

// viewNote shows a note, its addenda and its earlier versions.
func (u *UI) viewNote(rw http.ResponseWriter, r *http.Request, usr *user) error {
	return u.showNote(rw, r, usr, http.StatusOK, "", "")
}

func (u *UI) showNote(rw http.ResponseWriter, r *http.Request, usr *user, status int, errMsg, addendum string) error {
	ctx := r.Context()
	id := r.PathValue("id")
	_, d, b, signed, err := u.draftOf(r, usr, id)
	if err != nil {
		return err
	}
	if to := d.appends(); to != "" {
		http.Redirect(rw, r, "/notes/"+to, http.StatusSeeOther)
		return nil
	}
	names := nameCache{u: u, ctx: ctx, names: map[string]string{}}
	data := noteViewData{Banner: b, ID: id, Title: cmp.Or(d.Description, d.Type.String(), "Note"), Text: sectionsForDisplay(d.text()),
		Author: names.of(d.author()), Draft: !signed, Form: addendum}
	if signed {
		data.Signed = minute(d.Date)
	}
	all, err := u.rec.find(ctx, usr.Org, "DocumentReference", url.Values{"relatesto": {"DocumentReference/" + id}}, maxList)
	if err != nil {
		return err
	}
	for _, res := range all {
		var a documentReference
		if res.decode(&a) != nil || a.appends() != id || !a.signed() || a.Status == "entered-in-error" {
			continue
		}
		data.Addenda = append(data.Addenda, noteViewAddendum{ID: res.ID, Text: a.text(), Author: names.of(a.author()), Signed: minute(a.Date)})
	}
	slices.SortFunc(data.Addenda, func(a, b noteViewAddendum) int { return cmp.Compare(a.Signed, b.Signed) })
	versions, err := u.rec.history(ctx, "DocumentReference", id)
	if err != nil {
		return err
	}
	for _, v := range versions[min(1, len(versions)):] {
		var o documentReference
		if v.decode(&o) != nil {
			continue
		}
		st := "draft"
		if o.signed() {
			st = "signed"
		}
		data.History = append(data.History, noteVersion{Version: v.VersionID, Status: st, Date: minute(o.Date), Text: sectionsForDisplay(o.text())})
	}
	msg := ""
	switch r.URL.Query().Get("done") {
	case "signed":
		msg = "Note signed."
	case "addendum":
		msg = "Addendum signed."
	}
	u.render(rw, r, status, "note_view.html", page{Title: data.Title, User: usr, Error: errMsg, Message: msg, Data: data})
	return nil
}

// addAddendum signs an addendum to a signed note: a new DocumentReference,
// signed at once, that relatesTo "appends" the note
// (https://hl7.org/fhir/R4/valueset-document-relationship-type.html).
func (u *UI) addAddendum(rw http.ResponseWriter, r *http.Request, usr *user) error {
	id := r.PathValue("id")
	_, d, _, signed, err := u.draftOf(r, usr, id)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get("addendum"), "\r\n", "\n"))
	switch {
	case !signed:
		return u.showNote(rw, r, usr, http.StatusConflict, "Only a signed note takes an addendum; edit the draft instead.", text)
	case text == "":
		return u.showNote(rw, r, usr, formStatus, "Write the addendum before signing it.", text)
	case len(text) > maxNote:
		return u.showNote(rw, r, usr, formStatus, "The addendum is too long.", text)
	}
	t := templateByTitle(d.Description)
	t.Title = "Addendum to " + cmp.Or(d.Description, "note")
	a := newNoteResource(t, strings.TrimPrefix(d.Subject.Reference, "Patient/"), usr.Ref, usr.Org, text, true, u.opts.Now())
	a.Type = d.Type
	a.RelatesTo = []relatesTo{{Code: "appends", Target: reference{Reference: "DocumentReference/" + id}}}
	if _, _, err := u.rec.create(r.Context(), usr.Org, "DocumentReference", a, ""); err != nil {
		return err
	}
	http.Redirect(rw, r, "/notes/"+id+"?done=addendum", http.StatusSeeOther)
	return nil
}
