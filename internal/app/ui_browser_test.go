package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWorkspaceInBrowser walks the clinician workspace in headless
// Chromium the way a screen-reader user would — by role and visible label
// only: sign in, register a patient (and meet the duplicate warning), find
// them with a typo, open the chart, write and sign a SOAP note, add an
// addendum, add an allergy, record vitals (and get a readable error for a
// bad value), see a signed note refused through the FHIR API, sign out.
// No page may log a JavaScript error or a failed request.
// CONTINUUM_SCREENSHOTS=dir keeps a screenshot of each page.
func TestWorkspaceInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	exe := chromium(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	pw := writeFile(t, dir, "pw", "correct horse battery\n")
	secret := writeFile(t, dir, "secret", "operator-secret-0123456789\n")
	mustRun(t, "user", "create", "--data", data, "--username", "doc", "--password-file", pw, "--role", "physician")
	mustRun(t, "client", "create", "--data", data, "--id", "ops", "--secret-file", secret, "--scope", "system/*.cruds")
	base := startServe(t, data)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Headless,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	// Every console message of level error, uncaught exception and failed
	// request (the browser log reports those) is a problem.
	var mu sync.Mutex
	var problems []string
	cctx, stopConsole := context.WithCancel(bctx)
	messages := chromedp.Console(cctx)
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%+v", m))
				mu.Unlock()
			}
		}
	}()
	defer func() { stopConsole(); <-consoleDone }()
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()

	// Locators by accessible name only.
	field := func(label string) string {
		return `//*[(self::input or self::textarea or self::select) and @id=//label[normalize-space()="` + label + `"]/@for]`
	}
	button := func(name string) string { return `//button[normalize-space()="` + name + `"]` }
	link := func(name string) string { return `//a[normalize-space()="` + name + `"]` }
	heading := func(text string) string { return `//h1[normalize-space()="` + text + `"]` }
	statusMsg := func(text string) string { return `//*[@role="status"][normalize-space()="` + text + `"]` }
	shots := os.Getenv("CONTINUUM_SCREENSHOTS")
	step := 0
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			hctx, cancel := context.WithTimeout(bctx, 5*time.Second)
			defer cancel()
			html, _ := chromedp.Run(hctx, chromedp.OuterHTML("html"))
			t.Fatalf("%s: %v\npage:\n%.3000s", what, err, html)
		}
		if shots != "" {
			shctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if png, err := chromedp.Run(shctx, chromedp.FullScreenshot(100)); err == nil {
				step++
				_ = os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", step, strings.ReplaceAll(what, " ", "-"))), png, 0o644)
			}
		}
	}
	fill := func(label, value string) chromedp.Action[chromedp.Void] {
		return chromedp.SendKeys(field(label), value)
	}
	refill := func(label, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(chromedp.Clear(field(label)), chromedp.SendKeys(field(label), value))
	}
	choose := func(label, value string) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(field(label), value)
	}
	text := func() string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	value := func(what string, a chromedp.Action[string]) string {
		s, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return s
	}

	do("sign-in page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(button("Sign in")))
	do("sign in", fill("Username", "doc"), fill("Password", "correct horse battery"), chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(heading("Workspace")))

	register := func(what string) {
		do(what, chromedp.Click(link("Register patient")), chromedp.WaitVisible(heading("Register patient")),
			fill("Given name", "Marianne"), fill("Family name", "Okafor"), choose("Birth date", "1961-04-09"), choose("Sex", "female"),
			fill("Phone", "+1 555 0100"), chromedp.Click(button("Register")))
	}
	register("register patient")
	do("chart after registering", chromedp.WaitVisible(heading("Marianne Okafor")))
	chartURL := value("chart url", chromedp.Location())
	if got := text(); !strings.Contains(got, "MRN") || !strings.Contains(got, "Female") || !regexp.MustCompile(`\d\d y`).MatchString(got) {
		t.Errorf("banner lacks MRN, sex or age:\n%s", got)
	}
	register("register the same patient again")
	do("duplicate warning", chromedp.WaitVisible(`//*[@role="alert"][contains(., "may already be registered")]`),
		chromedp.WaitVisible(button("Register anyway")))

	do("find with a typo", fill("Find patient", "Marianne Okafur"), chromedp.Submit(field("Find patient")),
		chromedp.WaitVisible(`//h2[contains(., "found for")]`), chromedp.WaitVisible(link("Marianne Okafor")), chromedp.Click(link("Marianne Okafor")),
		chromedp.WaitVisible(heading("Marianne Okafor")))

	do("new note", chromedp.Click(link("New note")), chromedp.WaitVisible(field("Template")))
	if tmpl := value("template", chromedp.Value(field("Template"))); tmpl != "soap" {
		t.Errorf("default template %q, want soap", tmpl)
	}
	do("write SOAP note", fill("Subjective", "Cough for three days."), fill("Objective", "Lungs clear."),
		fill("Assessment", "Viral bronchitis."), fill("Plan", "Fluids, rest; return if fever."),
		chromedp.Click(button("Sign note")), chromedp.WaitVisible(`//*[contains(., "Signed by")]`))
	noteURL := value("note url", chromedp.Location())
	noteID, _, _ := strings.Cut(noteURL[strings.LastIndex(noteURL, "/notes/")+len("/notes/"):], "?")
	do("addendum", fill("Addendum", "Chest X-ray normal."), chromedp.Click(button("Sign addendum")),
		chromedp.WaitVisible(statusMsg("Addendum signed.")))
	if got := text(); !strings.Contains(got, "Lungs clear.") || !strings.Contains(got, "Chest X-ray normal.") {
		t.Errorf("the note and its addendum are not both shown:\n%s", got)
	}

	do("add allergy", chromedp.Click(link("Add allergy")), fill("Substance", "Penicillin"), fill("Reaction", "Hives"),
		choose("Severity", "moderate"), chromedp.Click(button("Save")), chromedp.WaitVisible(statusMsg("Allergy saved.")))
	if got := text(); !strings.Contains(got, "Penicillin") || !strings.Contains(got, "Allergy saved.") {
		t.Errorf("the chart does not show the allergy:\n%s", got)
	}
	do("bad vitals", chromedp.Click(link("Record vitals")), fill("Systolic", "abc"), fill("Diastolic", "80"),
		chromedp.Click(button("Save")), chromedp.WaitVisible(`//*[contains(@class,"error")][contains(., "as a number")]`))
	do("record vitals", refill("Systolic", "128"), refill("Diastolic", "82"), fill("Heart rate", "72"), fill("Weight", "70.5"),
		chromedp.Click(button("Save")), chromedp.WaitVisible(statusMsg("Vital signs saved.")))
	if got := text(); !strings.Contains(got, "128/82 mmHg") || !strings.Contains(got, "72 /min") || !strings.Contains(got, "70.5 kg") {
		t.Errorf("the chart does not show the vitals:\n%s", got)
	}
	if got := text(); !strings.Contains(got, "SOAP progress note") || !strings.Contains(got, "1 addendum") {
		t.Errorf("the chart does not list the note with its addendum:\n%s", got)
	}

	// The FHIR API sees the signed note and refuses to change it.
	tok := operatorToken(t, base, "ops", "operator-secret-0123456789")
	status, body := fhirDo(t, "GET", base+"/fhir/DocumentReference/"+noteID, tok, "")
	if status != 200 || !strings.Contains(body, `"docStatus":"final"`) || !strings.Contains(body, `"authenticator"`) {
		t.Fatalf("GET the signed note: %d %s", status, body)
	}
	changed := strings.Replace(body, `"status":"current"`, `"status":"superseded"`, 1)
	if status, body := fhirDo(t, "PUT", base+"/fhir/DocumentReference/"+noteID, tok, changed); status != http.StatusConflict {
		t.Errorf("PUT a signed note: %d %s", status, body)
	}
	if status, body := fhirDo(t, "DELETE", base+"/fhir/DocumentReference/"+noteID, tok, ""); status != http.StatusConflict {
		t.Errorf("DELETE a signed note: %d %s", status, body)
	}

	do("sign out", chromedp.Navigate(chartURL), chromedp.WaitVisible(heading("Marianne Okafor")),
		chromedp.Click(button("Sign out")), chromedp.WaitVisible(button("Sign in")))
	do("signed out: the chart asks to sign in", chromedp.Navigate(chartURL), chromedp.WaitVisible(button("Sign in")))
	if got := text(); strings.Contains(got, "Okafor") {
		t.Errorf("after sign-out the chart still shows patient data:\n%s", got)
	}
	time.Sleep(200 * time.Millisecond) // the last page's messages
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("browser problems:\n%s", strings.Join(problems, "\n"))
	}
}

func fhirDo(t *testing.T, method, u, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
