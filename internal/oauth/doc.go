// Package oauth is Continuum's SMART on FHIR 2.2 authorization server and
// OpenID Connect provider, without HTTP: the transport (internal/authweb)
// parses requests into the types here and renders what they return.
//
// # What it does
//
//   - Sign-in with a username and password hashed with argon2id (RFC 9106),
//     lockout after repeated failures, and a second factor (TOTP, RFC 6238)
//     that administrators must enrol at their first sign-in. An unknown
//     username and a wrong password fail alike, in message and in time: the
//     password is checked against a dummy hash when there is no account, and
//     every failure is answered no sooner than a fixed floor.
//   - Sessions of the sign-in pages, ended by idle time and by an absolute
//     lifetime, both checked on the server.
//   - The authorization code grant with PKCE S256 only
//     (https://hl7.org/fhir/smart-app-launch/STU2.2/app-launch.html), for EHR
//     launches (a launch id minted by NewLaunch) and standalone launches (a
//     patient picked by the user); the `aud` of every request must be this
//     server's FHIR base, redirect URIs must equal a registered one.
//   - The token endpoint: public clients (PKCE is their proof), symmetric
//     confidential clients (client_secret_basic and _post), asymmetric ones
//     (private_key_jwt with RS384 or ES384, a jti replay cache and the token
//     endpoint as audience:
//     https://hl7.org/fhir/smart-app-launch/STU2.2/client-confidential-asymmetric.html);
//     refresh tokens that rotate on every use, bound to the session for
//     online_access; backend services (client_credentials with
//     private_key_jwt and system/ scopes:
//     https://hl7.org/fhir/smart-app-launch/STU2.2/backend-services.html); and
//     the operator grant, client_credentials with client_secret_basic, for
//     scripts (not advertised in the SMART configuration).
//   - Access tokens are short-lived JWTs (RFC 9068 shape) signed with RS256
//     keys that rotate; they carry what rebuilding the caller's
//     auth.Principal needs, and the id of their grant, which Authenticate
//     checks so that revocation takes effect at once. id_tokens, userinfo,
//     introspection (RFC 7662) and revocation (RFC 7009) complete it.
//
// Every secret is kept hashed (passwords, client secrets: argon2id; codes,
// refresh tokens, session ids: SHA-256 of 256 random bits) or sealed with
// the deployment's secret key (signing keys, TOTP seeds: AES-256-GCM), in the
// database behind store.Identity, so any number of nodes can serve.
package oauth
