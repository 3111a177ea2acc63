package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var when = time.Date(2026, 11, 25, 17, 30, 0, 123e6, time.FixedZone("CET", 3600))

func readRecord() Record {
	return Record{
		ID: "ae-read-1", Recorded: when, Action: Read, Outcome: Success,
		User:   Agent{ID: "u-42", Reference: "Practitioner/p-7"},
		Client: Agent{ID: "growth-chart", Address: "192.0.2.10"},
		Server: "https://ehr.example.org/fhir", Observer: "continuum", Site: "Example Clinic",
		Patients:  []string{"pat-1"},
		Resources: []Resource{{Type: "Observation", ID: "obs-9", Version: "3"}},
		RequestID: "req-abc",
	}
}

func searchRecord() Record {
	return Record{
		ID: "ae-search-1", Recorded: when, Action: SearchType, Outcome: Success,
		User:   Agent{ID: "u-42", Reference: "Practitioner/p-7"},
		Client: Agent{ID: "growth-chart", Address: "192.0.2.10"},
		Server: "https://ehr.example.org/fhir", Observer: "continuum", Site: "Example Clinic",
		Patients:  []string{"pat-1"},
		Query:     "Observation?patient=pat-1&category=vital-signs&bogus=1",
		Cleaned:   "Observation?category=vital-signs&patient=pat-1",
		RequestID: "req-def",
	}
}

// TestGolden compares the AuditEvents of a read and a search with the
// files in testdata; run with -update to rewrite them, then review the
// diff.
func TestGolden(t *testing.T) {
	for name, r := range map[string]Record{"read": readRecord(), "search": searchRecord()} {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			if err := json.Indent(&got, r.JSON(), "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("AuditEvent for %s differs from %s (run with -update and review):\n%s", name, path, got.String())
			}
		})
	}
}

func TestEventShape(t *testing.T) {
	tests := []struct {
		name    string
		r       Record
		action  string
		profile string
		client  string // DICOM role code of the client agent
	}{
		{"read", readRecord(), "R", "IHE.BasicAudit.PatientRead", "110152"},
		{"search", searchRecord(), "E", "IHE.BasicAudit.PatientQuery", "110153"},
		{"create", Record{Action: Create, Client: Agent{ID: "c"}}, "C", "IHE.BasicAudit.Create", "110153"},
		{"patch", Record{Action: Patch, Patients: []string{"a"}}, "U", "IHE.BasicAudit.PatientUpdate", ""},
		{"delete", Record{Action: Delete}, "D", "IHE.BasicAudit.Delete", ""},
		{"several patients: no patient profile", Record{Action: Read, Patients: []string{"a", "b"}}, "R", "", ""},
		{"denied: no profile", Record{Action: Read, Outcome: MinorFailure}, "R", "", ""},
		{"export", Record{Action: Operation, Operation: "$export"}, "E", "", ""},
		{"login", Record{Action: Login}, "E", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := fhir.Parse(tt.r.JSON())
			if err != nil {
				t.Fatal(err)
			}
			if v.ResourceType() != "AuditEvent" || v.Str("action") != tt.action {
				t.Errorf("resourceType %q action %q, want AuditEvent %q", v.ResourceType(), v.Str("action"), tt.action)
			}
			var profile string
			if m, ok := v.Get("meta"); ok {
				p, _ := m.Get("profile")
				profile = p.Items[0].Text
			}
			if want := tt.profile; (want == "") != (profile == "") || want != "" && profile != balpProfile[:len(balpProfile)-len("IHE.BasicAudit.")]+want {
				t.Errorf("profile %q, want %q", profile, tt.profile)
			}
			if tt.client != "" {
				agents, _ := v.Get("agent")
				found := false
				for _, a := range agents.Items {
					if who, ok := a.Get("who"); ok {
						if id, ok := who.Get("identifier"); ok && id.Str("value") == tt.r.Client.ID {
							typ, _ := a.Get("type")
							c, _ := typ.Get("coding")
							found = c.Items[0].Str("code") == tt.client
						}
					}
				}
				if !found {
					t.Errorf("client agent does not have role %s", tt.client)
				}
			}
		})
	}
}

func TestUserAgentType(t *testing.T) {
	tests := []struct {
		action Action
		ref    string
		want   string
	}{
		{Read, "Practitioner/1", "IRCP"},
		{SearchType, "Practitioner/1", "IRCP"},
		{Create, "Practitioner/1", "AGNT"},
		{Update, "Practitioner/1", "AGNT"},
		{Read, "Patient/1", "PAT"},
		{Create, "Patient/1", "PAT"},
	}
	for _, tt := range tests {
		v, err := fhir.Parse(Record{Action: tt.action, User: Agent{Reference: tt.ref}}.JSON())
		if err != nil {
			t.Fatal(err)
		}
		agents, _ := v.Get("agent")
		typ, _ := agents.Items[0].Get("type")
		c, _ := typ.Get("coding")
		if got := c.Items[0].Str("code"); got != tt.want {
			t.Errorf("%s by %s: user agent type %s, want %s", tt.action, tt.ref, got, tt.want)
		}
	}
}

func TestQueryIsBase64OfRaw(t *testing.T) {
	r := searchRecord()
	r.Query = "Observation?x=\x00<script>"
	v, err := fhir.Parse(r.JSON())
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := v.Get("entity")
	for _, e := range ents.Items {
		if q := e.Str("query"); q != "" {
			raw, err := base64.StdEncoding.DecodeString(q)
			if err != nil || string(raw) != r.Query {
				t.Errorf("query entity %q does not decode to the raw query", q)
			}
			return
		}
	}
	t.Error("no query entity")
}

func TestBreakGlassAndDeterminism(t *testing.T) {
	r := readRecord()
	r.BreakGlass = "unconscious patient in ED"
	a, b := r.JSON(), r.JSON()
	if !bytes.Equal(a, b) {
		t.Fatal("Record.JSON is not deterministic")
	}
	if !bytes.Contains(a, []byte(`"code":"BTG"`)) || !bytes.Contains(a, []byte("unconscious patient in ED")) {
		t.Errorf("break-the-glass not recorded: %s", a)
	}
}
