// Package authweb is the HTTP transport of the authorization server
// (internal/oauth): SMART and OIDC discovery, the JWKS, the authorization
// endpoint with its sign-in, second-factor, patient-picker and consent
// pages, and the token, introspection, revocation and userinfo endpoints
// (https://hl7.org/fhir/smart-app-launch/STU2.2/app-launch.html).
// routes.go is its whole URL space.
//
// The pages are plain HTML rendered with html/template (contextual
// escaping) and are meant to be driven by label like a screen-reader user:
// fields labelled Username and Password and a Sign in button; a consent page
// with Allow and Deny and a checkbox per optional scope; a picker where each
// patient is a button named with the patient's name. They use no script,
// are never cached (no-store) or framed, and post only to themselves; every
// form post is checked by http.CrossOriginProtection and, once a session
// exists, by a per-session token.
//
// Web authenticates FHIR API requests too: Authenticate turns an
// `Authorization: Bearer` access token into the caller's auth.Principal.
package authweb
