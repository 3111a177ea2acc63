package oauth

import (
	"cmp"
	"context"
	"net/url"
	"slices"

	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// App is a SMART app the workspace can launch from a chart.
type App struct {
	ClientID, Name string
	// Origin is the launch URI's origin: the chart's Content-Security-Policy
	// lets its launch form redirect there (form-action).
	Origin string
}

// LaunchableApps lists the apps enabled at org that have a launch URI: the
// chart's "Apps" (SMART EHR launch,
// https://hl7.org/fhir/smart-app-launch/STU2.2/app-launch.html#launch-app-ehr-launch).
func (s *Server) LaunchableApps(ctx context.Context, org string) ([]App, error) {
	all, err := s.id.Clients(ctx)
	if err != nil {
		return nil, err
	}
	var out []App
	for _, c := range all {
		if c.LaunchURI != "" && enabledAt(&c, org) {
			out = append(out, App{ClientID: c.ID, Name: cmp.Or(c.Name, c.ID), Origin: uriOrigin(c.LaunchURI)})
		}
	}
	slices.SortFunc(out, func(a, b App) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

func uriOrigin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

func enabledAt(c *store.Client, org string) bool {
	return len(c.Orgs) == 0 || slices.Contains(c.Orgs, org)
}

// LaunchFromChart mints an EHR launch of an app for the signed-in user's
// session at org, with the patient (and encounter) in context, and returns
// the app's launch URL. The app then authorizes with the same browser
// session: no second sign-in. The caller has checked that the user may
// see the patient; the app must be enabled at org.
func (s *Server) LaunchFromChart(ctx context.Context, sess *Session, org, clientID, patient, encounter string) (string, error) {
	if sess == nil || !sess.MFADone() {
		return "", ErrNoSession
	}
	c, err := s.id.Client(ctx, clientID)
	if err != nil || c.LaunchURI == "" || !enabledAt(c, org) {
		return "", outcome.Errorf(outcome.NotFound, "no app %q to launch here", clientID)
	}
	return MintLaunch(ctx, s.id, s.opts.Store, LaunchSpec{ClientID: clientID, Patient: patient, Encounter: encounter, FHIRBase: s.fhir}, s.now())
}
