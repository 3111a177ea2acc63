package validate_test

import (
	"os"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/r4examples"
	"github.com/continuum-ehr/continuum/internal/validate"
)

// loadExamples returns the files of hl7.fhir.r4.examples@4.0.1. Outside CI a
// machine without npm access skips; in CI (CI=true) the package is required.
func loadExamples(t testing.TB) []r4examples.File {
	t.Helper()
	files, err := r4examples.ReadAll()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the official R4 examples (%s) are required in CI: %v", r4examples.Package, err)
		}
		t.Skipf("needs the official R4 examples (%s, fetched with npm or read from $%s): %v",
			r4examples.Package, r4examples.EnvVar, err)
	}
	return files
}

// knownInvalid lists the official examples that break R4 rules, with the
// rule (a substring of an expected issue) and where the spec states it.
// Every other file must validate without errors.
var knownInvalid = map[string]struct{ rule, ref string }{
	// A code is "[^\s]+(\s[^\s]+)*": a single space is not a code.
	"CodeSystem-v2-0550.json":   {"a code cannot be only whitespace", "datatypes.html#code"},
	"Bundle-v2-valuesets.json":  {"a code cannot be only whitespace", "datatypes.html#code (holds CodeSystem v2-0550)"},
	"DeviceMetric-example.json": {"a reference to DeviceDefinition is not allowed here", "devicemetric-definitions.html#DeviceMetric.parent: Reference(Device)"},
	"DeviceUseStatement-example.json": {"a reference to Procedure is not allowed here",
		"deviceusestatement-definitions.html#DeviceUseStatement.reasonReference"},
	"MedicationRequest-medrx0301.json": {"a reference to Practitioner is not allowed here",
		"medicationrequest-definitions.html#MedicationRequest.dispenseRequest.performer: Reference(Organization)"},
	"Observation-clinical-gender.json": {"a reference to Encounter is not allowed here",
		"observation-definitions.html#Observation.performer"},
	// Nested items without linkId; linkId is 1..1.
	"Questionnaire-qs1.json": {`missing required element "linkId"`, "questionnaire-definitions.html#Questionnaire.item.linkId"},
	// The IG resource for the spec itself lacks name and status (1..1) and
	// lists a resource whose id is longer than 64 characters.
	"ImplementationGuide-fhir.json": {`missing required element "status"`, "implementationguide-definitions.html#ImplementationGuide.status"},
	"ig-r4.json":                    {`missing required element "name"`, "implementationguide-definitions.html#ImplementationGuide.name"},
	// SearchParameters for extensions have no base (1..*).
	"SearchParameter-codesystem-extensions-CodeSystem-author.json":    {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	"SearchParameter-codesystem-extensions-CodeSystem-effective.json": {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	"SearchParameter-codesystem-extensions-CodeSystem-end.json":       {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	"SearchParameter-codesystem-extensions-CodeSystem-keyword.json":   {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	"SearchParameter-codesystem-extensions-CodeSystem-workflow.json":  {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	"SearchParameter-valueset-extensions-ValueSet-author.json":        {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	"SearchParameter-valueset-extensions-ValueSet-effective.json":     {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	"SearchParameter-valueset-extensions-ValueSet-end.json":           {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	"SearchParameter-valueset-extensions-ValueSet-keyword.json":       {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	"SearchParameter-valueset-extensions-ValueSet-workflow.json":      {`missing required element "base"`, "searchparameter-definitions.html#SearchParameter.base"},
	// Invariants.
	"Bundle-dataelements.json":            {"bdl-7", "bundle.html#invariants: bdl-7 (entries repeat fullUrl and versionId)"},
	"StructureDefinition-Definition.json": {"sdf-4: If the structure is not abstract", "structuredefinition.html#invariants: sdf-4 (a logical model without baseDefinition)"},
	"StructureDefinition-Event.json":      {"sdf-4: If the structure is not abstract", "structuredefinition.html#invariants: sdf-4 (a logical model without baseDefinition)"},
	"StructureDefinition-FiveWs.json":     {"sdf-4: If the structure is not abstract", "structuredefinition.html#invariants: sdf-4 (a logical model without baseDefinition)"},
	"StructureDefinition-Request.json":    {"sdf-4: If the structure is not abstract", "structuredefinition.html#invariants: sdf-4 (a logical model without baseDefinition)"},
	"SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json": {"is not a valid id",
		"datatypes.html#id: at most 64 characters"},
}

func TestOfficialExamples(t *testing.T) {
	files := loadExamples(t)
	if len(files) < 5300 {
		t.Fatalf("expected the whole package (5,306 files), got %d", len(files))
	}
	v := validate.New(spec.R4(), validate.Options{})
	seen := map[string]bool{}
	for _, f := range files {
		issues := v.Validate(f.Data)
		want, bad := knownInvalid[f.Name]
		if !bad {
			for _, is := range issues {
				if is.IsError() {
					t.Errorf("%s: %s at %v: %s", f.Name, is.Code, is.Expression, is.Diagnostics)
				}
			}
			continue
		}
		seen[f.Name] = true
		found := false
		for _, is := range issues {
			if is.IsError() && strings.Contains(is.Diagnostics, want.rule) {
				found = true
			}
		}
		if !found {
			var errs []outcome.Issue
			for _, is := range issues {
				if is.IsError() {
					errs = append(errs, is)
				}
			}
			t.Errorf("%s is listed as invalid (%s, %s) but validation reported the errors %v", f.Name, want.rule, want.ref, errs)
		}
	}
	for name := range knownInvalid {
		if !seen[name] {
			t.Errorf("%s is listed as invalid but is not in the package", name)
		}
	}
}

// TestOfficialExamplesHaveNoStrayIssues guards against a validator that
// passes examples by reporting nothing: every example has at least one
// element checked, so a resource with a broken copy must fail.
func TestOfficialExamplesMutated(t *testing.T) {
	files := loadExamples(t)
	v := validate.New(spec.R4(), validate.Options{})
	n := 0
	for _, f := range files {
		if _, bad := knownInvalid[f.Name]; bad || !strings.HasPrefix(f.Name, "Patient-") {
			continue
		}
		// An unknown property at the root of each Patient example.
		mutated := strings.Replace(string(f.Data), `"resourceType": "Patient"`, `"resourceType": "Patient", "nonsense": 1`, 1)
		if mutated == string(f.Data) {
			t.Fatalf("%s: could not mutate", f.Name)
		}
		issues := v.Validate([]byte(mutated))
		if !outcome.HasErrors(issues) {
			t.Errorf("%s with an unknown element validated", f.Name)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d Patient examples mutated", n)
	}
}
