package app

import (
	"context"
	"fmt"
	"time"

	"github.com/continuum-ehr/continuum/internal/auth"
	"github.com/continuum-ehr/continuum/internal/config"
	"github.com/continuum-ehr/continuum/internal/interaction"
	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

func userCommand() command {
	return command{
		name:    "user",
		summary: "create accounts and reset passwords (user create|passwd)",
		usage: `user create --username U --password-file F --role ROLE [--org ORG-ID] [--practitioner ID | --patient ID]
       continuum user passwd --username U --password-file F
       continuum user disable|enable --username U`,
		help: `user create adds an account. A practitioner user (the default) holds ROLE — physician,
nurse, therapist, front-desk or admin — at the organization --org (default: the
deployment's default organization); without --practitioner a new Practitioner resource
is created for them. Every practitioner user also gets a PractitionerRole at the
organization. A patient user (--patient ID) is linked to that Patient and needs no role.
Administrators must set up a second factor (an authenticator app) at first sign-in.

user passwd sets a new password (an administrator's reset) and lifts a lockout.

user disable stops an account at once: its sessions end and every app it authorized loses
access (tokens and refresh tokens are revoked). user enable allows it to sign in again.

The password is read from the file F ("-" reads standard input), never from the
command line. Works whether the server runs or not.`,
		run: runUser,
	}
}

func runUser(ctx context.Context, c command, e *env, args []string) int {
	rest, code, ok := subcommand(c, e, args, "create", "passwd", "disable", "enable")
	if !ok {
		return code
	}
	if args[0] == "disable" || args[0] == "enable" {
		return runUserDisable(ctx, c, e, rest, args[0] == "disable")
	}
	cfg := config.Default()
	fs := c.flags()
	cfg.StorageFlags(fs)
	cfg.AuditFlags(fs)
	username := fs.String("username", "", "the account's `USERNAME`")
	passwordFile := fs.String("password-file", "", "`FILE` holding the password (- for standard input)")
	var role, org, practitioner, patient *string
	if args[0] == "create" {
		role = fs.String("role", "", "`ROLE` at the organization: physician, nurse, therapist, front-desk or admin")
		org = fs.String("org", "", "`ORG-ID` of the organization (default: the deployment's default organization)")
		practitioner = fs.String("practitioner", "", "link to this existing Practitioner `ID`")
		patient = fs.String("patient", "", "a patient user, linked to this Patient `ID`")
	}
	if code, ok := c.parseFlags(e, fs, &cfg, rest); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError(e, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if *username == "" || *passwordFile == "" {
		return c.usageError(e, "--username and --password-file are required")
	}
	password, err := readSecretFile(e, *passwordFile)
	if err != nil {
		return c.usageError(e, "--password-file: "+err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if args[0] == "passwd" {
		return userPasswd(ctx, c, e, cfg, *username, password)
	}
	spec := oauth.UserSpec{Username: *username, Password: password}
	switch {
	case *patient != "" && *practitioner != "":
		return c.usageError(e, "give --practitioner or --patient, not both")
	case *patient != "":
		if *org != "" {
			return c.usageError(e, "--org is for practitioner users; a patient user's organization is their record's")
		}
		if !store.ValidID(*patient) {
			return c.usageError(e, "--patient must be a Patient id")
		}
		spec.Kind, spec.FHIRUser = "patient", "Patient/"+*patient
	default:
		r, err := auth.ParseRole(*role)
		if err != nil {
			return c.usageError(e, "--role: "+err.Error())
		}
		if *org == "" {
			*org = defaultOrg
		}
		spec.Kind = "practitioner"
		spec.Memberships = []store.Membership{{Org: *org, Role: string(r)}}
	}
	// Check what can be checked before writing anything: the password and
	// the username.
	if _, err := oauth.HashPassword(password); err != nil {
		return c.usageError(e, "--password-file: "+err.Error())
	}
	st, err := initStore(ctx, cfg)
	if err != nil {
		return fail(e, c, err)
	}
	defer st.Close()
	if _, err := st.UserByUsername(ctx, *username); err == nil {
		return fail(e, c, fmt.Errorf("the username %q is taken", *username))
	}
	if spec.Kind == "patient" {
		if _, err := st.Read(ctx, "Patient", *patient); err != nil {
			return fail(e, c, fmt.Errorf("cannot use Patient/%s: %w", *patient, err))
		}
	} else {
		if _, err := st.Read(ctx, "Organization", *org); err != nil {
			return fail(e, c, fmt.Errorf("cannot use Organization/%s: %w (create it with continuum org create)", *org, err))
		}
		id, err := linkPractitioner(ctx, cfg, st, *practitioner, *username, *org, spec.Memberships[0].Role)
		if err != nil {
			return fail(e, c, err)
		}
		spec.FHIRUser = "Practitioner/" + id
	}
	userID, err := oauth.CreateUser(ctx, st, spec, time.Now())
	if err != nil {
		return fail(e, c, err)
	}
	fmt.Fprintf(e.stdout, "user %s (id %s) linked to %s\n", *username, userID, spec.FHIRUser)
	return exitOK
}

// linkPractitioner returns the Practitioner of a new practitioner user,
// creating one when id is "", and adds a PractitionerRole for the role at
// org.
func linkPractitioner(ctx context.Context, cfg config.Config, st store.Store, id, username, org, role string) (string, error) {
	sctx, svc, done, err := systemInteractions(ctx, cfg, st)
	if err != nil {
		return "", err
	}
	defer done()
	if id != "" {
		if _, err := st.Read(ctx, "Practitioner", id); err != nil {
			return "", fmt.Errorf("cannot use Practitioner/%s: %w", id, err)
		}
	} else {
		res, err := svc.Create(sctx, interaction.CreateRequest{Type: "Practitioner",
			Body: fmt.Appendf(nil, `{"resourceType":"Practitioner","active":true,"name":[{"text":%q}]}`, username)})
		if err != nil {
			return "", err
		}
		id = res.Version.ID
	}
	_, err = svc.Create(sctx, interaction.CreateRequest{Type: "PractitionerRole", Body: fmt.Appendf(nil,
		`{"resourceType":"PractitionerRole","active":true,"practitioner":{"reference":"Practitioner/%s"},`+
			`"organization":{"reference":"Organization/%s"},"code":[{"coding":[{"system":%q,"code":%q}]}]}`,
		id, org, roleSystem, role)})
	return id, err
}

// roleSystem is the code system of Continuum's user roles in
// PractitionerRole.code.
const roleSystem = "https://continuum-ehr.org/fhir/CodeSystem/user-role"

func userPasswd(ctx context.Context, c command, e *env, cfg config.Config, username, password string) int {
	st, err := initStore(ctx, cfg)
	if err != nil {
		return fail(e, c, err)
	}
	defer st.Close()
	u, err := st.UserByUsername(ctx, username)
	if oe := outcome.As(err); oe != nil && oe.Kind == outcome.NotFound {
		return fail(e, c, fmt.Errorf("no user is called %q", username))
	} else if err != nil {
		return fail(e, c, err)
	}
	if err := oauth.SetPassword(ctx, st, u.ID, password, time.Now()); err != nil {
		return fail(e, c, err)
	}
	fmt.Fprintf(e.stdout, "password of %s set; any lockout is lifted\n", username)
	return exitOK
}

func runUserDisable(ctx context.Context, c command, e *env, args []string, disable bool) int {
	cfg := config.Default()
	fs := c.flags()
	cfg.StorageFlags(fs)
	cfg.AuditFlags(fs)
	username := fs.String("username", "", "the account's `USERNAME`")
	if code, ok := c.parseFlags(e, fs, &cfg, args); !ok {
		return code
	}
	if fs.NArg() > 0 || *username == "" {
		return c.usageError(e, "--username is required, and nothing else")
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	st, err := initStore(ctx, cfg)
	if err != nil {
		return fail(e, c, err)
	}
	defer st.Close()
	u, err := st.UserByUsername(ctx, *username)
	if oe := outcome.As(err); oe != nil && oe.Kind == outcome.NotFound {
		return fail(e, c, fmt.Errorf("no user is called %q", *username))
	} else if err != nil {
		return fail(e, c, err)
	}
	if err := st.SetDisabled(ctx, u.ID, disable, time.Now()); err != nil {
		return fail(e, c, err)
	}
	if disable {
		fmt.Fprintf(e.stdout, "%s is disabled: sessions ended, apps' access revoked\n", *username)
	} else {
		fmt.Fprintf(e.stdout, "%s is enabled\n", *username)
	}
	return exitOK
}
