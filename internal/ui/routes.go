package ui

import "net/http"

// patterns are the routes of routes(), for mounting beside the FHIR API.
var patterns = []string{
	"GET /{$}",
	"GET /ui/",
	"GET /favicon.ico",
	"/patients",
	"/patients/",
	"/notes/",
}

// routes is the URL space of the workspace.
func (u *UI) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", u.root)
	mux.HandleFunc("GET /ui/style.css", u.asset("style.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /favicon.ico", favicon())
	mux.HandleFunc("GET /ui/workspace.js", u.asset("workspace.js", "text/javascript; charset=utf-8"))

	mux.Handle("GET /patients", u.signedIn(u.findPatient))
	mux.Handle("GET /patients/new", u.signedIn(u.registerForm))
	mux.Handle("POST /patients/new", u.signedIn(u.register))
	mux.Handle("GET /patients/{id}", u.signedIn(u.chart))
	mux.Handle("GET /patients/{id}/notes/new", u.signedIn(u.newNote))
	mux.Handle("POST /patients/{id}/notes/new", u.signedIn(u.saveNewNote))
	mux.Handle("GET /patients/{id}/allergies/new", u.signedIn(u.allergyForm))
	mux.Handle("POST /patients/{id}/allergies/new", u.signedIn(u.addAllergy))
	mux.Handle("GET /patients/{id}/vitals/new", u.signedIn(u.vitalsForm))
	mux.Handle("POST /patients/{id}/vitals/new", u.signedIn(u.recordVitals))
	mux.Handle("POST /patients/{id}/apps/{client}", u.signedIn(u.launchApp))

	mux.Handle("GET /notes/{id}", u.signedIn(u.viewNote))
	mux.Handle("GET /notes/{id}/edit", u.signedIn(u.editNote))
	mux.Handle("POST /notes/{id}/edit", u.signedIn(u.saveNote))
	mux.Handle("POST /notes/{id}/addendum", u.signedIn(u.addAddendum))

	mux.Handle("/patients", u.signedIn(notFound))
	mux.Handle("/patients/", u.signedIn(notFound))
	mux.Handle("/notes/", u.signedIn(notFound))
	mux.HandleFunc("/ui/", http.NotFound)
	return mux
}
