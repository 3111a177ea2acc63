package rest

import (
	"net/http"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/continuum-ehr/continuum/internal/search"
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
	ConditionalDelete string           `json:"conditionalDelete,omitzero"`
	SearchInclude     []string         `json:"searchInclude,omitzero"`
	SearchRevInclude  []string         `json:"searchRevInclude,omitzero"`
	SearchParam       []capSearchParam `json:"searchParam,omitzero"`
	Documentation     string           `json:"documentation,omitzero"`
}

type capSearchParam struct {
	Name       string `json:"name"`
	Definition string `json:"definition,omitzero"`
	Type       string `json:"type"`
}

// capSearchParams lists the parameters a type can be searched by: those with
// an expression the index extracts (internal/index), less the ones the
// planner refuses (special parameters such as near; _text and _content,
// full text not being indexed yet).
func capSearchParams(typ string) []capSearchParam {
	reg := search.NewRegistryR4()
	var out []capSearchParam
	for _, code := range reg.Params(typ) {
		sp := reg.Lookup(typ, code)
		if sp == nil || !reg.Supported(sp) || code == "_text" || code == "_content" ||
			(sp.Type == "special" && code != "_list") {
			continue
		}
		out = append(out, capSearchParam{Name: code, Definition: sp.URL, Type: sp.Type})
	}
	return out
}

type capInteraction struct {
	Code string `json:"code"`
}

// resourceInteractions lists, per resource type, the interactions
// internal/interaction implements.
func resourceInteractions(opts Options) []capResource {
	var out []capResource
	for _, typ := range opts.Spec.ResourceTypes() {
		if typ == "AuditEvent" {
			// The audit trail: read and search, for administrators; nobody
			// writes it through the API (docs/security.md).
			out = append(out, capResource{
				Type:        typ,
				Interaction: []capInteraction{{"read"}, {"search-type"}},
				Versioning:  "no-version",
				SearchParam: []capSearchParam{
					{"patient", "http://hl7.org/fhir/SearchParameter/AuditEvent-patient", "reference"},
					{"entity", "http://hl7.org/fhir/SearchParameter/AuditEvent-entity", "reference"},
					{"agent", "http://hl7.org/fhir/SearchParameter/AuditEvent-agent", "reference"},
					{"subtype", "http://hl7.org/fhir/SearchParameter/AuditEvent-subtype", "token"},
					{"date", "http://hl7.org/fhir/SearchParameter/AuditEvent-date", "date"},
					{"purpose", "", "token"},
				},
				Documentation: "The audit trail (IHE BALP AuditEvents), kept apart from clinical data; administrators only.",
			})
			continue
		}
		out = append(out, capResource{
			Type: typ,
			Interaction: []capInteraction{{"read"}, {"vread"}, {"update"}, {"patch"}, {"delete"},
				{"history-instance"}, {"history-type"}, {"create"}, {"search-type"}},
			Versioning:        "versioned-update", // If-Match is honoured
			ReadHistory:       true,
			UpdateCreate:      true,
			ConditionalCreate: true, // If-None-Exist: any search
			ConditionalUpdate: true,
			ConditionalDelete: "single",
			SearchInclude:     []string{"*"},
			SearchRevInclude:  []string{"*"},
			SearchParam:       capSearchParams(typ),
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
		r.Documentation = "FHIR R4 JSON API. Search (GET [type]?…, POST [type]/_search, system search with _type, " +
			"compartment search [Compartment]/[id]/[type]) over every parameter listed per type: number, date, " +
			"string, token, reference, quantity (UCUM-normalised), uri and composite, with prefixes eq ne gt lt ge " +
			"le sa eb ap; modifiers :missing (all types), :exact and :contains (string), :not, :text and :of-type " +
			"(token), :identifier and :[type] (reference), :above and :below (uri); chains to depth 4 and _has; " +
			"_sort, _count (default 20, max 1000), _total, _summary, _elements, _include and _revinclude " +
			"(with :iterate and *), _list; next/previous links (_page). Not supported: token :in, :not-in, " +
			":above, :below; near; _text and _content; _filter and _query. Conditional create (If-None-Exist), " +
			"conditional update and delete, and conditional references match with full search. History pages " +
			"with _count, _since and the next link. PATCH takes JSON Patch (application/json-patch+json) and " +
			"FHIRPath Patch (a Parameters resource, application/fhir+json), also as Bundle entries (JSON Patch in " +
			"a Binary)."
		r.Resource = resourceInteractions(opts)
		// https://hl7.org/fhir/R4/capabilitystatement-definitions.html#CapabilityStatement.patchFormat
		cs.PatchFormat = []string{"application/json-patch+json", "application/fhir+json"}
		r.Interaction = []capInteraction{{"transaction"}, {"batch"}, {"history-system"}, {"search-system"}}
	}
	b, err := json.Marshal(cs, jsontext.WithIndent("  "))
	if err != nil {
		panic("rest: rendering the CapabilityStatement: " + err.Error()) // fixed structure: cannot fail
	}
	return b
}
