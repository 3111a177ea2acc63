package synth

import (
	"fmt"
	"math/rand/v2"
)

// directory writes the organizations with their locations, practitioners
// and roles.
func (w *world) directory() []Resource {
	g := &gen{}
	for _, py := range w.payers {
		g.emit("Organization", py.id, obj{
			{"resourceType", "Organization"},
			{"id", py.id},
			{"active", true},
			{"type", arr{code{"http://terminology.hl7.org/CodeSystem/organization-type", py.typ, map[string]string{"govt": "Government", "ins": "Insurance Company"}[py.typ]}.concept()}},
			{"name", py.name},
		})
	}
	for _, o := range w.orgs {
		typeText := map[orgKind]string{hospital: "Hospital", clinic: "Primary care clinic", rehab: "Rehabilitation and physical therapy", homeHealth: "Home health agency"}[o.kind]
		addr := obj{{"line", []string{o.street}}, {"city", o.city.name}, {"state", o.city.state}, {"postalCode", o.city.zip}, {"country", "US"}}
		g.emit("Organization", o.id, obj{
			{"resourceType", "Organization"},
			{"id", o.id},
			{"meta", profile(usCore + "us-core-organization")},
			{"identifier", arr{obj{{"system", npiSystem}, {"value", o.npi}}}},
			{"active", true},
			{"type", arr{obj{{"coding", arr{code{"http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider"}.coding()}}, {"text", typeText}}}},
			{"name", o.name},
			{"telecom", arr{obj{{"system", "phone"}, {"value", o.phone}, {"use", "work"}}}},
			{"address", arr{addr}},
		})
		for _, l := range o.locs {
			g.emit("Location", l.id, obj{
				{"resourceType", "Location"},
				{"id", l.id},
				{"meta", profile(usCore + "us-core-location")},
				{"status", "active"},
				{"name", l.name},
				{"mode", "instance"},
				{"type", arr{l.typ.concept()}},
				{"telecom", arr{obj{{"system", "phone"}, {"value", o.phone}, {"use", "work"}}}},
				{"address", addr},
				{"position", obj{{"longitude", dec{o.city.lon, 4}}, {"latitude", dec{o.city.lat, 4}}}},
				{"managingOrganization", ref("Organization", o.id, o.name)},
			})
		}
		for _, c := range o.staff {
			qual := obj{{"coding", arr{c.qual.coding()}}, {"text", c.qual.display}}
			if o.kind == rehab && !c.nurse {
				qual = obj{{"text", "Doctor of Physical Therapy"}}
			}
			n := obj{{"use", "official"}, {"family", c.name.family}, {"given", []string{c.name.given}}}
			if c.name.prefix != "" {
				n = append(n, kv{"prefix", []string{c.name.prefix}})
			}
			if c.name.suffix != "" {
				n = append(n, kv{"suffix", []string{c.name.suffix}})
			}
			email := fmt.Sprintf("%s.%s@%s.example.org", lowerASCII(c.name.given), lowerASCII(c.name.family), o.slug)
			g.emit("Practitioner", c.id, obj{
				{"resourceType", "Practitioner"},
				{"id", c.id},
				{"meta", profile(usCore + "us-core-practitioner")},
				{"identifier", arr{obj{{"system", npiSystem}, {"value", c.npi}}}},
				{"active", true},
				{"name", arr{n}},
				{"telecom", arr{obj{{"system", "email"}, {"value", email}, {"use", "work"}}}},
				{"gender", c.gender},
				{"qualification", arr{obj{{"code", qual}}}},
			})
			g.emit("PractitionerRole", c.roleID, obj{
				{"resourceType", "PractitionerRole"},
				{"id", c.roleID},
				{"meta", profile(usCore + "us-core-practitionerrole")},
				{"active", true},
				{"practitioner", ref("Practitioner", c.id, c.name.text())},
				{"organization", ref("Organization", o.id, o.name)},
				{"code", arr{c.role.concept()}},
				{"specialty", arr{c.specialty.concept()}},
				{"location", arr{ref("Location", o.locs[0].id, o.locs[0].name)}},
				{"telecom", arr{obj{{"system", "phone"}, {"value", o.phone}, {"use", "work"}}}},
			})
		}
	}
	return g.out
}

// groups writes one Group per organization listing the patients it has
// seen (members holds their ids per organization number).
func (w *world) groups(seed uint64, members [][]string) []Resource {
	r := rand.New(rand.NewPCG(seed, streamWorld+1))
	g := &gen{}
	for _, o := range w.orgs {
		id := newID(r)
		var ms arr
		for _, pid := range members[o.n] {
			ms = append(ms, obj{{"entity", obj{{"reference", "Patient/" + pid}}}})
		}
		grp := obj{
			{"resourceType", "Group"},
			{"id", id},
			{"identifier", arr{obj{{"system", "urn:continuum:synth:group"}, {"value", o.slug}}}},
			{"active", true},
			{"type", "person"},
			{"actual", true},
			{"name", "Patients of " + o.name},
			{"quantity", len(members[o.n])},
			{"managingEntity", ref("Organization", o.id, o.name)},
		}
		grp = grp.add("member", ms)
		g.emit("Group", id, grp)
	}
	return g.out
}
