package app

import (
	"context"
	"fmt"
	"time"

	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/store"
)

func launchCommand() command {
	return command{
		name:    "launch",
		summary: "mint an EHR launch for a SMART app and print its launch URL",
		usage:   "launch --client ID --patient ID [--encounter ID] [--base-url URL] [--data DIR | --database-url URL]",
		help: `Mints a short-lived (5 minutes) EHR launch bound to the patient (and encounter) for the
registered app, and prints the URL that starts it, as the chart's launch button will:
  <launch-uri>?iss=<fhir base>&launch=<id>
The FHIR base comes from --base-url (as given to serve; default http://<addr>/fhir).`,
		run: runLaunch,
	}
}

func runLaunch(ctx context.Context, c command, e *env, args []string) int {
	cfg := config.Default()
	fs := c.flags()
	cfg.StorageFlags(fs)
	fs.StringVar(&cfg.BaseURL, "base-url", cfg.BaseURL, "public base `URL` of the server, as given to serve")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "the server's `HOST:PORT`, for the default base URL")
	client := fs.String("client", "", "the app's client `ID`")
	patient := fs.String("patient", "", "the Patient `ID` in context")
	encounter := fs.String("encounter", "", "the Encounter `ID` in context")
	if code, ok := c.parseFlags(e, fs, &cfg, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return c.usageError(e, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	case *client == "" || *patient == "":
		return c.usageError(e, "--client and --patient are required")
	case !store.ValidID(*patient) || (*encounter != "" && !store.ValidID(*encounter)):
		return c.usageError(e, "--patient and --encounter must be resource ids")
	}
	base := cfg.BaseURL
	if base == "" {
		base = config.DefaultBaseURL(cfg.Addr, cfg.TLS())
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	st, err := initStore(ctx, cfg)
	if err != nil {
		return fail(e, c, err)
	}
	defer st.Close()
	u, err := oauth.MintLaunch(ctx, st, st, oauth.LaunchSpec{ClientID: *client, Patient: *patient, Encounter: *encounter,
		FHIRBase: base + "/fhir"}, time.Now())
	if err != nil {
		return fail(e, c, err)
	}
	fmt.Fprintln(e.stdout, u)
	return exitOK
}
