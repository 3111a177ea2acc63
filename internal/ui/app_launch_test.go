package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

// The chart lists the SMART apps enabled at the user's organization and
// launches one with the patient in context (an EHR launch).
func TestLaunchApp(t *testing.T) {
	h := newHarness(t, sqltest.Backends()[0])
	ctx := context.Background()
	for _, c := range []oauth.ClientSpec{
		{ID: "growth", Name: "Growth charts", RedirectURIs: []string{"https://apps.example/growth/"}, LaunchURI: "https://apps.example/growth/launch", Orgs: []string{"org-a"}},
		{ID: "elsewhere", Name: "Elsewhere", RedirectURIs: []string{"https://b.example/"}, LaunchURI: "https://b.example/launch", Orgs: []string{"org-b"}},
	} {
		if err := oauth.RegisterClient(ctx, h.db, c, h.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	b := h.signIn("doc")
	id := b.register("Ada", "Lovelace", "1915-12-10")
	resp, body := b.get("/patients/" + id)
	mustContain(t, "the chart", body, ">Open Growth charts</button>")
	if strings.Contains(body, "Elsewhere") {
		t.Error("the chart lists an app of another organization")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://apps.example;") {
		t.Errorf("CSP = %q", csp)
	}
	resp, _ = b.post("/patients/"+id+"/apps/growth", url.Values{})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Host != "apps.example" || loc.Path != "/growth/launch" ||
		loc.Query().Get("iss") != h.srv.URL+"/fhir" || loc.Query().Get("launch") == "" {
		t.Fatalf("launch: %d %v", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.post("/patients/"+id+"/apps/elsewhere", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("launching another organization's app: %d", resp.StatusCode)
	}
	if resp, _ := h.signIn("other").post("/patients/"+id+"/apps/growth", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("launching with another organization's patient: %d", resp.StatusCode)
	}
}
