package auth

import (
	"context"
	"testing"
)

func TestContextCarriesPrincipal(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("an empty context carries a principal")
	}
	p := NewPatientSession("u1", "pat-1")
	got, ok := FromContext(NewContext(context.Background(), p))
	if !ok || got.Kind != PatientUser || got.Patient != "pat-1" || got.User.ID != "u1" {
		t.Fatalf("FromContext = %+v, %v; want the patient session back", got, ok)
	}
}
