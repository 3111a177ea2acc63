// Package ui is the clinician workspace: server-rendered HTML pages,
// embedded in the binary, that work without JavaScript (progressive
// enhancement; no front-end build). See docs/ui.md.
//
// One file per page, named after it (workspace.go, patient_find.go,
// patient_register.go, patient_chart.go, note_edit.go, note_view.go,
// allergy_add.go, vitals_record.go, app_launch.go), its template beside it
// in templates/; routes.go is the whole URL space, notes.go the note model
// (docs/decisions/0010-notes.md).
//
// Every read and write goes through internal/interaction with the
// signed-in user's principal in the context (auth.NewContext), never the
// store, so validation, authorization and audit are those of the FHIR API.
// records.go is the one place that calls interaction (the chart's lists are
// FHIR searches narrowed to the user's organization); finder.go keeps the
// in-memory name index behind Find patient, fed by the Patient history.
//
// Security: the session is the authorization server's (internal/authweb),
// ended server-side after --session-idle; every form post passes
// http.CrossOriginProtection and carries the session's anti-forgery token;
// pages set a strict Content-Security-Policy with frame-ancestors 'none',
// and pages with patient data Cache-Control: no-store.
package ui
