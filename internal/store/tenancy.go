package store

// The directory types are the resource types shared by the whole deployment:
// no organization owns them, every organization may read them. They describe
// who and what exists (the directory) and how the server and its terminology
// are defined (conformance and terminology modules of R4:
// https://hl7.org/fhir/R4/conformance-module.html,
// https://hl7.org/fhir/R4/terminology-module.html). Everything else —
// clinical, administrative-about-a-patient, financial, workflow — belongs to
// one organization. See docs/decisions/0004-tenancy.md.

// DirectoryTypes returns the deployment-wide types, sorted, for
// documentation and the CapabilityStatement.
func DirectoryTypes() []string {
	return []string{
		"CapabilityStatement", "CodeSystem", "CompartmentDefinition", "ConceptMap", "Endpoint", "ExampleScenario",
		"GraphDefinition", "HealthcareService", "ImplementationGuide", "Location", "Medication", "MessageDefinition",
		"NamingSystem", "OperationDefinition", "Organization", "Practitioner", "PractitionerRole", "SearchParameter",
		"StructureDefinition", "StructureMap", "TerminologyCapabilities", "ValueSet",
	}
}

// DirectoryType reports whether resources of type typ are deployment-wide,
// owned by no organization. (A switch rather than a lookup in
// DirectoryTypes: it runs on every write; TestDirectoryTypes keeps the two
// in step.)
func DirectoryType(typ string) bool {
	switch typ {
	case
		// The directory.
		"Organization", "Practitioner", "PractitionerRole", "Location", "HealthcareService", "Endpoint", "Medication",
		// Conformance.
		"CapabilityStatement", "StructureDefinition", "ImplementationGuide", "SearchParameter", "MessageDefinition",
		"OperationDefinition", "CompartmentDefinition", "StructureMap", "GraphDefinition", "ExampleScenario",
		// Terminology.
		"CodeSystem", "ValueSet", "ConceptMap", "NamingSystem", "TerminologyCapabilities":
		return true
	}
	return false
}
