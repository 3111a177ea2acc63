package auth

import (
	"reflect"
	"testing"
)

func TestInPatientCompartment(t *testing.T) {
	tests := []struct {
		typ    string
		params []string
		ok     bool
	}{
		{"Observation", []string{"subject", "performer"}, true},
		{"Encounter", []string{"patient"}, true},
		{"Patient", []string{"link"}, true},
		{"Group", []string{"member"}, true},
		{"Organization", nil, false},
		{"Task", nil, false},
		{"NoSuchType", nil, false},
	}
	for _, tt := range tests {
		params, ok := InPatientCompartment(tt.typ)
		if ok != tt.ok || !reflect.DeepEqual(params, tt.params) {
			t.Errorf("InPatientCompartment(%s) = %v %v, want %v %v", tt.typ, params, ok, tt.params, tt.ok)
		}
	}
}

func TestPatientContextReachable(t *testing.T) {
	for typ, want := range map[string]bool{
		"Observation": true, "Patient": true, "Condition": true, "Practitioner": true, "ValueSet": true,
		"Group": false, "List": false, "AuditEvent": false, "Task": false, "Subscription": false,
	} {
		if got := PatientContextReachable(typ); got != want {
			t.Errorf("PatientContextReachable(%s) = %v, want %v", typ, got, want)
		}
	}
	// Every compartment type is reachable except those listing others.
	n := 0
	for _, typ := range specTypes() {
		if _, ok := InPatientCompartment(typ); ok {
			n++
		}
	}
	if n < 60 {
		t.Errorf("only %d types in the Patient compartment; the definitions did not load", n)
	}
}
