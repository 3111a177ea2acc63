package ui

import "net/http"

// launchApp starts a SMART EHR launch of an app from the chart, with the
// patient in context: the app's launch URL, to which the browser goes; the
// app's authorization request then finds the clinician's session, so there
// is no second sign-in
// (https://hl7.org/fhir/smart-app-launch/STU2.2/app-launch.html#launch-app-ehr-launch).
func (u *UI) launchApp(rw http.ResponseWriter, r *http.Request, usr *user) error {
	id := r.PathValue("id")
	if _, _, err := u.patientOf(r.Context(), usr, id); err != nil {
		return err
	}
	target, err := u.opts.OAuth.LaunchFromChart(r.Context(), usr.sess, usr.Org, r.PathValue("client"), id, "")
	if err != nil {
		return err
	}
	http.Redirect(rw, r, target, http.StatusSeeOther)
	return nil
}
