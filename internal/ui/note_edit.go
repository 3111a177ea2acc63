package ui

import (
	"net/http"
	"strings"
)

// noteSection is one labelled text area of the note editor.
type noteSection struct {
	Name, Field, Value string
}

type noteEditData struct {
	Banner    banner
	Templates []noteTemplate
	Template  noteTemplate
	Sections  []noteSection
	NoteID    string // "" for a new note
	Version   string
	Action    string
}

func sectionsOf(t noteTemplate, values map[string]string) []noteSection {
	var out []noteSection
	for i, s := range t.Sections {
		out = append(out, noteSection{Name: s, Field: "s" + itoa(i), Value: values[s]})
	}
	return out
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

// sectionValues reads the editor's text areas.
func sectionValues(r *http.Request, t noteTemplate) map[string]string {
	v := map[string]string{}
	for i, s := range t.Sections {
		v[s] = r.PostForm.Get("s" + itoa(i))
	}
	return v
}

// newNote is the editor of a new note; the Template select (a GET form,
// so it works without script) chooses the sections.
func (u *UI) newNote(rw http.ResponseWriter, r *http.Request, usr *user) error {
	id := r.PathValue("id")
	_, b, err := u.patientOf(r.Context(), usr, id)
	if err != nil {
		return err
	}
	t, _ := templateByKey(r.URL.Query().Get("template"))
	u.render(rw, r, http.StatusOK, "note_edit.html", page{Title: "New note", User: usr, Data: noteEditData{Banner: b, Templates: noteTemplates,
		Template: t, Sections: sectionsOf(t, nil), Action: "/patients/" + id + "/notes/new"}})
	return nil
}

// maxNote bounds a note's text (1 MiB of Markdown is hundreds of pages).
const maxNote = 1 << 20

// checkNote returns the problem with a note's text, "" when it can be
// saved (sign: signed).
func checkNote(text string, sign bool) string {
	switch {
	case len(text) > maxNote:
		return "The note is too long."
	case sign && strings.TrimSpace(text) == "":
		return "Write the note before signing it."
	}
	return ""
}

// saveNewNote saves a new note as a draft, or signs it at once.
func (u *UI) saveNewNote(rw http.ResponseWriter, r *http.Request, usr *user) error {
	id := r.PathValue("id")
	_, b, err := u.patientOf(r.Context(), usr, id)
	if err != nil {
		return err
	}
	t, ok := templateByKey(r.PostForm.Get("template"))
	values := sectionValues(r, t)
	sign := r.PostForm.Get("action") == "sign"
	text := compose(t, values)
	msg := checkNote(text, sign)
	if !ok {
		msg = "Choose a template."
	}
	if msg != "" {
		u.render(rw, r, formStatus, "note_edit.html", page{Title: "New note", User: usr, Error: msg,
			Data: noteEditData{Banner: b, Templates: noteTemplates, Template: t, Sections: sectionsOf(t, values), Action: "/patients/" + id + "/notes/new"}})
		return nil
	}
	d := newNoteResource(t, id, usr.Ref, usr.Org, text, sign, u.opts.Now())
	res, _, err := u.rec.create(r.Context(), usr.Org, "DocumentReference", d, "")
	if err != nil {
		return err
	}
	if sign {
		http.Redirect(rw, r, "/notes/"+res.ID+"?done=signed", http.StatusSeeOther)
	} else {
		http.Redirect(rw, r, "/notes/"+res.ID+"/edit?done=draft", http.StatusSeeOther)
	}
	return nil
}

// draftOf reads a note the user may edit: their own draft. Another
// user's draft is not found; a signed note answers signed=true.
func (u *UI) draftOf(r *http.Request, usr *user, id string) (resource, documentReference, banner, bool, error) {
	var d documentReference
	res, err := u.rec.read(r.Context(), "DocumentReference", id)
	if err != nil {
		return res, d, banner{}, false, err
	}
	if res.Org != usr.Org || res.decode(&d) != nil || d.Subject == nil || (!d.signed() && d.author() != usr.Ref) {
		return res, d, banner{}, false, privateErr("DocumentReference", id)
	}
	_, b, err := u.patientOf(r.Context(), usr, strings.TrimPrefix(d.Subject.Reference, "Patient/"))
	if err != nil {
		return res, d, banner{}, false, err
	}
	return res, d, b, d.signed(), nil
}

func (u *UI) editNote(rw http.ResponseWriter, r *http.Request, usr *user) error {
	id := r.PathValue("id")
	res, d, b, signed, err := u.draftOf(r, usr, id)
	if err != nil {
		return err
	}
	if signed {
		http.Redirect(rw, r, "/notes/"+id, http.StatusSeeOther)
		return nil
	}
	t := templateByTitle(d.Description)
	msg := ""
	if r.URL.Query().Get("done") == "draft" {
		msg = "Draft saved. Only you can see it until you sign it."
	}
	u.render(rw, r, http.StatusOK, "note_edit.html", page{Title: "Edit draft", User: usr, Message: msg,
		Data: noteEditData{Banner: b, Template: t, Sections: sectionsOf(t, decompose(t, d.text())), NoteID: id,
			Version: res.VersionID, Action: "/notes/" + id + "/edit"}})
	return nil
}

// saveNote saves a draft again, or signs it. The version the editor was
// opened at guards against overwriting a change made in another tab.
func (u *UI) saveNote(rw http.ResponseWriter, r *http.Request, usr *user) error {
	id := r.PathValue("id")
	res, d, b, signed, err := u.draftOf(r, usr, id)
	if err != nil {
		return err
	}
	if signed {
		u.render(rw, r, http.StatusConflict, "error.html", page{Title: "This note is signed", User: usr,
			Error: "A signed note cannot be changed. Open it and add an addendum instead."})
		return nil
	}
	t := templateByTitle(d.Description)
	values := sectionValues(r, t)
	sign := r.PostForm.Get("action") == "sign"
	text := compose(t, values)
	data := noteEditData{Banner: b, Template: t, Sections: sectionsOf(t, values), NoteID: id, Version: res.VersionID, Action: "/notes/" + id + "/edit"}
	if msg := checkNote(text, sign); msg != "" {
		u.render(rw, r, formStatus, "note_edit.html", page{Title: "Edit draft", User: usr, Error: msg, Data: data})
		return nil
	}
	if v := r.PostForm.Get("version"); v != res.VersionID {
		u.render(rw, r, http.StatusConflict, "note_edit.html", page{Title: "Edit draft", User: usr,
			Error: "This draft was changed elsewhere since you opened it. Your text is below; copy what you need, then reload.", Data: data})
		return nil
	}
	now := u.opts.Now()
	nd := newNoteResource(t, strings.TrimPrefix(d.Subject.Reference, "Patient/"), usr.Ref, usr.Org, text, sign, now)
	nd.ID = id
	if !sign {
		nd.Date = d.Date // a draft keeps the time it was started
	}
	if _, err := u.rec.update(r.Context(), usr.Org, "DocumentReference", id, res.VersionID, nd); err != nil {
		return err
	}
	if sign {
		http.Redirect(rw, r, "/notes/"+id+"?done=signed", http.StatusSeeOther)
	} else {
		http.Redirect(rw, r, "/notes/"+id+"/edit?done=draft", http.StatusSeeOther)
	}
	return nil
}
