package store

import (
	"maps"
	"slices"
)

// directoryTypes are the resource types shared by the whole deployment: no
// organization owns them, every organization may read them. They describe
// who and what exists (the directory) and how the server and its terminology
// are defined (conformance and terminology modules of R4:
// https://hl7.org/fhir/R4/conformance-module.html,
// https://hl7.org/fhir/R4/terminology-module.html). Everything else —
// clinical, administrative-about-a-patient, financial, workflow — belongs to
// one organization. See docs/decisions/0004-tenancy.md.
var directoryTypes = map[string]bool{
	// The directory.
	"Organization":      true,
	"Practitioner":      true,
	"PractitionerRole":  true,
	"Location":          true,
	"HealthcareService": true,
	"Endpoint":          true,
	"Medication":        true,
	// Conformance.
	"CapabilityStatement":   true,
	"StructureDefinition":   true,
	"ImplementationGuide":   true,
	"SearchParameter":       true,
	"MessageDefinition":     true,
	"OperationDefinition":   true,
	"CompartmentDefinition": true,
	"StructureMap":          true,
	"GraphDefinition":       true,
	"ExampleScenario":       true,
	// Terminology.
	"CodeSystem":              true,
	"ValueSet":                true,
	"ConceptMap":              true,
	"NamingSystem":            true,
	"TerminologyCapabilities": true,
}

// DirectoryType reports whether resources of type typ are deployment-wide,
// owned by no organization.
func DirectoryType(typ string) bool { return directoryTypes[typ] }

// DirectoryTypes returns the deployment-wide types, sorted, for
// documentation and the CapabilityStatement.
func DirectoryTypes() []string { return slices.Sorted(maps.Keys(directoryTypes)) }
