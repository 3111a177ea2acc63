package rest

import (
	"net/http"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// capabilities is GET [base]/metadata: the CapabilityStatement
// (https://hl7.org/fhir/R4/capabilitystatement.html), rendered once at
// start.
func (a *API) capabilities(w http.ResponseWriter, r *http.Request) error {
	writeFHIR(w, http.StatusOK, a.metadata)
	return nil
}

// The CapabilityStatement lists only what is implemented: a client that
// trusts it must not discover a missing interaction by failing. Resource
// interactions, search and security are added here as they land.
type capStatement struct {
	ResourceType   string         `json:"resourceType"`
	Status         string         `json:"status"`
	Date           string         `json:"date"`
	Kind           string         `json:"kind"`
	Software       capSoftware    `json:"software"`
	Implementation capImplementor `json:"implementation"`
	FHIRVersion    string         `json:"fhirVersion"`
	Format         []string       `json:"format"`
	PatchFormat    []string       `json:"patchFormat,omitzero"`
	Rest           []capRest      `json:"rest"`
}

type capSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version,omitzero"`
}

type capImplementor struct {
	Description string `json:"description"`
	URL         string `json:"url"`
}

type capRest struct {
	Mode          string           `json:"mode"`
	Documentation string           `json:"documentation,omitzero"`
	Resource      []capResource    `json:"resource,omitzero"`
	Interaction   []capInteraction `json:"interaction,omitzero"`
	Operation     []capOperation   `json:"operation,omitzero"`
}

type capResource struct {
	Type              string           `json:"type"`
	Interaction       []capInteraction `json:"interaction"`
	Versioning        string           `json:"versioning"`
	ReadHistory       bool             `json:"readHistory"`
	UpdateCreate      bool             `json:"updateCreate"`
	ConditionalCreate bool             `json:"conditionalCreate"`
	ConditionalUpdate bool             `json:"conditionalUpdate"`
	ConditionalDelete string           `json:"conditionalDelete"`
}

type capInteraction struct {
	Code string `json:"code"`
}

// resourceInteractions lists, per resource type, the interactions
// internal/interaction implements.
func resourceInteractions(opts Options) []capResource {
	var out []capResource
	for _, typ := range opts.Spec.ResourceTypes() {
		out = append(out, capResource{
			Type: typ,
			Interaction: []capInteraction{{"read"}, {"vread"}, {"update"}, {"patch"}, {"delete"},
				{"history-instance"}, {"history-type"}, {"create"}},
			Versioning:        "versioned-update", // If-Match is honoured
			ReadHistory:       true,
			UpdateCreate:      true,
			ConditionalCreate: true, // If-None-Exist by identifier or _id
			ConditionalUpdate: true,
			ConditionalDelete: "single",
		})
	}
	return out
}

type capOperation struct {
	Name          string `json:"name"`
	Definition    string `json:"definition"`
	Documentation string `json:"documentation,omitzero"`
}

func capabilityStatement(opts Options) []byte {
	cs := capStatement{
		ResourceType: "CapabilityStatement",
		Status:       "active",
		Date:         opts.Started.UTC().Format(time.RFC3339),
		Kind:         "instance", // this running server, not a product's capabilities in general
		Software:     capSoftware{Name: opts.Software.Name, Version: opts.Software.Version},
		Implementation: capImplementor{
			Description: opts.Software.Name + " FHIR R4 server",
			URL:         opts.BaseURL + "/fhir",
		},
		FHIRVersion: "4.0.1",
		Format:      []string{"application/fhir+json", "json"},
		Rest: []capRest{{
			Mode:          "server",
			Documentation: "FHIR R4 JSON API. Resource interactions and search are not available yet.",
			Operation: []capOperation{{
				Name:       "validate",
				Definition: "http://hl7.org/fhir/OperationDefinition/Resource-validate",
				Documentation: "POST [base]/$validate or [base]/[type]/$validate with a resource, or a Parameters " +
					"holding it in `resource`; answers 200 with no errors, 400 otherwise. " +
					"The `mode` and `profile` parameters are not supported yet.",
			}},
		}},
	}
	if opts.Interactions != nil {
		r := &cs.Rest[0]
		r.Documentation = "FHIR R4 JSON API. Search is not available yet; conditional create (If-None-Exist), " +
			"conditional update and delete, and conditional references match by identifier=[system|]value or " +
			"_id only. History pages with _count, _since and the next link. PATCH takes JSON Patch " +
			"(application/json-patch+json) and FHIRPath Patch (a Parameters resource, application/fhir+json), " +
			"also as Bundle entries (JSON Patch in a Binary)."
		r.Resource = resourceInteractions(opts)
		// https://hl7.org/fhir/R4/capabilitystatement-definitions.html#CapabilityStatement.patchFormat
		cs.PatchFormat = []string{"application/json-patch+json", "application/fhir+json"}
		r.Interaction = []capInteraction{{"transaction"}, {"batch"}, {"history-system"}}
	}
	b, err := json.Marshal(cs, jsontext.WithIndent("  "))
	if err != nil {
		panic("rest: rendering the CapabilityStatement: " + err.Error()) // fixed structure: cannot fail
	}
	return b
}
