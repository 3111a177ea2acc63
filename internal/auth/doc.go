// Package auth decides who may do what: principals, SMART on FHIR scopes,
// the role table, the Patient compartment and organization tenancy. It is
// pure (no I/O, no clock, no storage), so every rule is decided in one place
// and tested by tables; the oauth server mints principals, interaction asks
// Decide before it touches the store.
//
// # The rule
//
// Authorization is the intersection of three things (architecture.md §4):
//
//   - what the token grants: SMART App Launch 2.2 scopes
//     (https://hl7.org/fhir/smart-app-launch/STU2.2/scopes-and-launch-context.html),
//     v1 (patient/*.read) read as v2 (patient/*.rs);
//   - what the user's role allows at each organization (roles.go), or what a
//     patient may do with their own record;
//   - the data boundary: the organizations that own the data (tenancy,
//     docs/decisions/0004-tenancy.md), and for patient-context tokens and
//     patient users the Patient compartment of the patient in context
//     (compartment.go).
//
// SMART says the same: scopes delegate a user's access, they never add to
// it ("servers SHALL respect underlying system policies and permissions").
// First-party sessions carry scopes too (SessionScopes), so there is one
// rule for everyone rather than a side door for the UI.
//
// # Narrow, never filter
//
// Decide answers before the query runs, and its Decision carries what the
// query must be narrowed to: organizations, a patient compartment, and the
// search constraints of v2 scopes (patient/Observation.rs?category=…).
// Filtering results afterwards would make _total, page sizes and next links
// reveal what was filtered out; HAPI learned this the hard way. Scope
// constraints are alternatives (several scopes may each grant a part); AsQuery
// folds them into one search parameter when the grammar allows and says so
// when it does not, so the caller can never silently widen.
//
// # Private, not forbidden
//
// A denial that depends on the target — it belongs to another organization
// or another patient — is Private and answers 404, worded exactly like a
// missing resource (Upspin's Private kind; outcome.Private). A denial that
// does not — the token lacks the scope, the role lacks the permission — is
// Forbidden (403): it reveals nothing about any resource.
//
// # Shared types
//
// The directory (Organization, Practitioner, PractitionerRole, Location,
// HealthcareService, Endpoint, Medication) and the conformance and
// terminology resources belong to the whole deployment: they are readable
// across organizations and outside any compartment, since they are about
// nobody in particular.
//
// # What callers must do
//
//   - Pass the owning organization and compartment membership of an
//     existing target (read the current version first), so the answer can
//     be Private; for writes, pass the membership of the new content too.
//   - Decide each entry of a batch or transaction, each _include and
//     _revinclude type, each chained and _has type, and each type of a
//     system search or export, as its own Request (SMART: "batch and
//     transaction requests SHALL be validated based on the actual requests
//     within them").
//   - For an instance bound by scope constraints, check it matches them as
//     a search (_id plus the constraint) and answer Private if not.
//
// # Break-the-glass
//
// A practitioner signed in to the EHR (not an app) may read records of
// other organizations after giving a reason (Request.BreakGlass): the
// organization boundary is lifted for reads only, scopes, roles and any
// patient compartment still apply, and Decision.BrokeGlass tells the caller
// to flag the audit record (audit.Record.BreakGlass) for review.
//
// Consent-based sharing across organizations and redacted views of
// resources listing other patients are not decided here yet.
package auth
