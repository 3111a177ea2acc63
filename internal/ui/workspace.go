package ui

import (
	"net/http"
)

// root is the server's root URL: the sign-in page for a visitor, the
// workspace for a signed-in clinician.
func (u *UI) root(rw http.ResponseWriter, r *http.Request) {
	u.signedIn(u.workspace).ServeHTTP(rw, r)
}

type workspaceData struct {
	Recent []*entry
	Drafts []noteItem
}

// workspace is the start page: find a patient (the box in the header),
// the patients registered or changed most recently, and the user's drafts.
func (u *UI) workspace(rw http.ResponseWriter, r *http.Request, usr *user) error {
	recent, err := u.finder.recent(r.Context(), usr.Org, 15)
	if err != nil {
		return err
	}
	drafts, err := u.notes(r, usr, "")
	if err != nil {
		return err
	}
	var mine []noteItem
	for _, n := range drafts {
		if n.Draft {
			mine = append(mine, n)
		}
	}
	u.render(rw, r, http.StatusOK, "workspace.html", page{Title: "Workspace", User: usr,
		Data: workspaceData{Recent: recent, Drafts: mine}})
	return nil
}
