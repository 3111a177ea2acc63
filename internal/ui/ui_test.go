package ui

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/store/sqlstore/sqltest"
)

func mustContain(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q:\n%.1500s", what, s, body)
		}
	}
}

func TestSignInAndHeaders(t *testing.T) {
	h := newHarness(t, sqltest.Backends()[0])
	resp, body := h.browser().get("/")
	if resp.StatusCode != 200 {
		t.Fatalf("GET / signed out: %d", resp.StatusCode)
	}
	mustContain(t, "the root URL signed out", body, `<label for="username">Username</label>`, `<label for="password">Password</label>`, ">Sign in</button>")
	if strings.Contains(body, "Workspace") {
		t.Error("the signed-out root shows the workspace")
	}
	b := h.signIn("doc")
	resp, body = b.get("/")
	mustContain(t, "the workspace", body, "<h1>Workspace</h1>", ">Sign out</button>", `<label for="find-q">Find patient</label>`)
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") ||
		strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	// Sign out ends the session: the chart asks to sign in again.
	id := b.register("Ada", "Lovelace", "1915-12-10")
	b.post("/auth/signout", url.Values{})
	_, body = b.get("/patients/" + id)
	mustContain(t, "the chart after sign-out", body, ">Sign in</button>")
	if strings.Contains(body, "Lovelace") {
		t.Error("the chart shows patient data after sign-out")
	}
}

// A session idle for longer than --session-idle ends on the server.
func TestIdleLogoff(t *testing.T) {
	h := newHarness(t, sqltest.Backends()[0])
	b := h.signIn("doc")
	id := b.register("Ada", "Lovelace", "1915-12-10")
	h.clock.Advance(idle - time.Minute)
	if _, body := b.get("/patients/" + id); !strings.Contains(body, "<h1>Ada Lovelace</h1>") {
		t.Fatalf("the chart within the idle time:\n%.800s", body)
	}
	_, body := b.get("/")
	if m := regexp.MustCompile(`http-equiv="refresh" content="(\d+)"`).FindStringSubmatch(body); m == nil || m[1] != "905" {
		t.Errorf("the page does not reload after the idle time: %v", m)
	}
	h.clock.Advance(idle + time.Second)
	_, body = b.get("/patients/" + id)
	mustContain(t, "the chart after the idle time", body, ">Sign in</button>")
	if strings.Contains(body, "Lovelace") {
		t.Error("patient data shown after idle logoff")
	}
}

func TestCSRF(t *testing.T) {
	h := newHarness(t, sqltest.Backends()[0])
	b := h.signIn("doc")
	form := func() url.Values {
		return url.Values{"given": {"Ada"}, "family": {"Lovelace"}, "birthDate": {"1915-12-10"}, "sex": {"female"}}
	}
	for _, tc := range []struct {
		name string
		csrf string
		hdr  map[string]string
	}{
		{"no token", "", map[string]string{"Sec-Fetch-Site": "same-origin"}},
		{"wrong token", "forged", map[string]string{"Sec-Fetch-Site": "same-origin"}},
		{"cross-site", b.csrf, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
	} {
		f := form()
		f.Set("csrf", tc.csrf)
		resp, body := b.do("POST", "/patients/new", f, tc.hdr)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403\n%.500s", tc.name, resp.StatusCode, body)
		}
	}
	if _, body := b.get("/patients?q=Lovelace"); !strings.Contains(body, "0 patients found") {
		t.Errorf("a refused post registered a patient:\n%.1500s", body)
	}
}

// A clinician of another organization gets the not-found page for every
// page of the patient, and does not find them.
func TestOtherOrganization(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, be sqltest.Backend) {
		h := newHarness(t, be)
		id := h.signIn("doc").register("Ada", "Lovelace", "1915-12-10")
		o := h.signIn("other")
		for _, p := range []string{"/patients/" + id, "/patients/" + id + "/notes/new", "/patients/" + id + "/vitals/new",
			"/patients/" + id + "/allergies/new", "/patients/nosuchpatient", "/patients/bad%20id!", "/notes/nosuch", "/nowhere/x"} {
			resp, body := o.get(p)
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "There is no such record") && !strings.Contains(body, "404") {
				t.Errorf("GET %s: %d\n%.600s", p, resp.StatusCode, body)
			}
			if strings.Contains(body, "Lovelace") {
				t.Errorf("GET %s leaks the patient", p)
			}
		}
		resp, _ := o.post("/patients/"+id+"/allergies/new", url.Values{"substance": {"Latex"}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("adding an allergy to another organization's patient: %d", resp.StatusCode)
		}
		if _, body := o.get("/patients?q=Lovelace"); strings.Contains(body, id) {
			t.Error("Find patient shows another organization's patient")
		}
	})
}

func TestRegisterValidationAndDuplicates(t *testing.T) {
	h := newHarness(t, sqltest.Backends()[0])
	b := h.signIn("doc")
	resp, body := b.post("/patients/new", url.Values{"given": {""}, "family": {"X"}, "birthDate": {"2999-01-01"}, "sex": {"robot"}, "email": {"nope"}})
	if resp.StatusCode != 200 {
		t.Errorf("invalid registration: status %d", resp.StatusCode)
	}
	mustContain(t, "invalid registration", body, "Enter the given name.", "The birth date must be in the past.", "Choose the sex.",
		"Enter an email address", `aria-invalid="true"`, `value="X"`)
	_, body = b.post("/patients/new", url.Values{"birthDate": {"10/12/1915"}})
	mustContain(t, "a birth date in another format", body, "Enter the birth date as YYYY-MM-DD.")

	id := b.register("Ada", "Lovelace", "1915-12-10")
	// Same birth date and a one-letter typo in the family name.
	resp, body = b.post("/patients/new", url.Values{"given": {"Ada"}, "family": {"Lovelase"}, "birthDate": {"1915-12-10"}, "sex": {"female"}})
	if resp.StatusCode != 200 {
		t.Fatalf("duplicate: %d", resp.StatusCode)
	}
	mustContain(t, "the duplicate warning", body, "may already be registered", `href="/patients/`+id+`"`, ">Register anyway</button>")
	// Another birth date is not a duplicate.
	resp, _ = b.post("/patients/new", url.Values{"given": {"Ada"}, "family": {"Lovelace"}, "birthDate": {"1916-12-10"}, "sex": {"female"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a different birth date is treated as a duplicate: %d", resp.StatusCode)
	}
	// Confirming past the warning registers a second patient with another MRN.
	id2 := b.register("Ada", "Lovelase", "1915-12-10")
	_, c1 := b.get("/patients/" + id)
	_, c2 := b.get("/patients/" + id2)
	mrn := regexp.MustCompile(`<dt>MRN</dt><dd>(\d{8})</dd>`)
	m1, m2 := mrn.FindStringSubmatch(c1), mrn.FindStringSubmatch(c2)
	if m1 == nil || m2 == nil || m1[1] == m2[1] {
		t.Errorf("MRNs %v and %v", m1, m2)
	}
	_, body = b.get("/patients?q=" + url.QueryEscape(m1[1]))
	mustContain(t, "find by MRN", body, "1 patient found", `href="/patients/`+id+`"`)
}

func TestFormsValidation(t *testing.T) {
	h := newHarness(t, sqltest.Backends()[0])
	b := h.signIn("doc")
	id := b.register("Ada", "Lovelace", "1915-12-10")
	for _, tc := range []struct {
		path string
		form url.Values
		want []string
	}{
		{"/patients/" + id + "/vitals/new", url.Values{}, []string{"Enter at least one measurement."}},
		{"/patients/" + id + "/vitals/new", url.Values{"systolic": {"abc"}, "heartRate": {"900"}},
			[]string{"Enter systolic as a number.", "Heart rate must be between 20 and 300 /min."}},
		{"/patients/" + id + "/vitals/new", url.Values{"systolic": {"120"}}, []string{"Enter the diastolic pressure with the systolic."}},
		{"/patients/" + id + "/vitals/new", url.Values{"systolic": {"80"}, "diastolic": {"120"}}, []string{"must be lower than the systolic"}},
		{"/patients/" + id + "/allergies/new", url.Values{"severity": {"moderate"}}, []string{"Enter the substance", "Describe the reaction"}},
		{"/patients/" + id + "/allergies/new", url.Values{"substance": {"Latex"}, "reaction": {"Rash"}, "severity": {"deadly"}}, []string{"Choose mild, moderate or severe."}},
		{"/patients/" + id + "/notes/new", url.Values{"template": {"soap"}, "action": {"sign"}}, []string{"Write the note before signing it."}},
		{"/patients/" + id + "/notes/new", url.Values{"template": {"nosuch"}, "action": {"draft"}}, []string{"Choose a template."}},
	} {
		resp, body := b.post(tc.path, tc.form)
		if resp.StatusCode != 200 {
			t.Errorf("POST %s %v: status %d", tc.path, tc.form, resp.StatusCode)
		}
		mustContain(t, tc.path, body, tc.want...)
	}
	// Nothing was written.
	_, body := b.get("/patients/" + id)
	mustContain(t, "the chart", body, "<h1>Ada Lovelace</h1>", "No notes yet.")
	if strings.Contains(body, "Latex") || strings.Contains(body, "mmHg") {
		t.Errorf("an invalid form wrote data:\n%s", body)
	}
	// Valid vitals: stored as vital-signs Observations, shown with units.
	resp, _ := b.post("/patients/"+id+"/vitals/new", url.Values{"systolic": {"120"}, "diastolic": {"80"}, "temperature": {"37,2"}, "spo2": {"97"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("vitals: %d", resp.StatusCode)
	}
	_, body = b.get("/patients/" + id)
	mustContain(t, "the chart", body, "120/80 mmHg", "37.2 °C", "97 %")
}

// Drafts are their author's alone; signing makes the note visible to the
// organization and immutable; addenda append.
func TestNotes(t *testing.T) {
	h := newHarness(t, sqltest.Backends()[0])
	b := h.signIn("doc")
	id := b.register("Ada", "Lovelace", "1915-12-10")
	resp, _ := b.post("/patients/"+id+"/notes/new", url.Values{"template": {"soap"}, "action": {"draft"}, "s00": {"Headache."}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/edit?done=draft") {
		t.Fatalf("save draft: %d %q", resp.StatusCode, loc)
	}
	note := strings.TrimSuffix(strings.TrimPrefix(loc, "/notes/"), "/edit?done=draft")
	_, body := b.get("/notes/" + note + "/edit")
	mustContain(t, "the draft", body, "Headache.", `<label for="s01">Objective</label>`, `name="version" value="1"`)

	d2 := h.signIn("doc2")
	if resp, _ := d2.get("/notes/" + note + "/edit"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another clinician opens the draft: %d", resp.StatusCode)
	}
	if resp, _ := d2.post("/notes/"+note+"/edit", url.Values{"version": {"1"}, "action": {"sign"}, "s00": {"x"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another clinician signs the draft: %d", resp.StatusCode)
	}
	if _, body := d2.get("/patients/" + id); strings.Contains(body, note) {
		t.Error("another clinician's chart lists the draft")
	}
	// A stale editor does not overwrite.
	b.post("/notes/"+note+"/edit", url.Values{"version": {"1"}, "action": {"draft"}, "s00": {"Headache, two days."}})
	if resp, body := b.post("/notes/"+note+"/edit", url.Values{"version": {"1"}, "action": {"draft"}, "s00": {"stale"}}); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(body, "changed elsewhere") {
		t.Errorf("stale save: %d", resp.StatusCode)
	}
	resp, _ = b.post("/notes/"+note+"/edit", url.Values{"version": {"2"}, "action": {"sign"}, "s00": {"Headache, two days."}, "s03": {"Paracetamol."}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/notes/"+note+"?done=signed" {
		t.Fatalf("sign: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = d2.get("/notes/" + note)
	mustContain(t, "the signed note seen by a colleague", body, "Signed by Pat DOC", "<h3>Plan</h3>", "Paracetamol.", "Earlier versions", "Version 2 (draft")
	if resp, _ := b.post("/notes/"+note+"/edit", url.Values{"version": {"3"}, "action": {"draft"}, "s00": {"changed"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("editing a signed note: %d", resp.StatusCode)
	}
	if resp, body := d2.post("/notes/"+note+"/addendum", url.Values{"addendum": {""}}); resp.StatusCode != 200 || !strings.Contains(body, "Write the addendum") {
		t.Errorf("empty addendum: %d", resp.StatusCode)
	}
	resp, _ = d2.post("/notes/"+note+"/addendum", url.Values{"addendum": {"Seen again: better."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("addendum: %d", resp.StatusCode)
	}
	_, body = b.get("/notes/" + note)
	mustContain(t, "the note with its addendum", body, "Paracetamol.", "Seen again: better.", "Signed by Pat DOC2")
	_, body = b.get("/patients/" + id)
	mustContain(t, "the chart", body, "SOAP progress note", "1 addendum")
}
