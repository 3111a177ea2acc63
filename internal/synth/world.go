package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// orgKind is the kind of a generated organization.
type orgKind int

const (
	hospital orgKind = iota
	clinic           // primary care
	rehab            // rehabilitation and physical therapy
	homeHealth
)

// org is a generated organization with its staff and sites.
type org struct {
	kind   orgKind
	n      int // its number, 0…
	id     string
	name   string
	slug   string // for its MRN system and e-mail domain
	city   city
	street string
	phone  string
	npi    string
	staff  []*clinician
	locs   []location
	mrnSys string
}

type location struct {
	id, name string
	typ      code
}

type clinician struct {
	id, roleID string
	name       name
	gender     string
	npi        string
	qual       code // qualification (degree)
	role       code // PractitionerRole.code
	specialty  code
	nurse      bool
}

type name struct{ given, family, prefix, suffix string }

func (n name) text() string {
	s := n.given + " " + n.family
	if n.prefix != "" {
		s = n.prefix + " " + s
	}
	if n.suffix != "" {
		s += ", " + n.suffix
	}
	return s
}

type city struct {
	name, state, zip, area string
	lat, lon               float64
}

var cities = []city{
	{"Springfield", "MA", "01103", "413", 42.1015, -72.5898},
	{"Worcester", "MA", "01608", "508", 42.2626, -71.8023},
	{"Lowell", "MA", "01852", "978", 42.6334, -71.3162},
	{"Cambridge", "MA", "02139", "617", 42.3736, -71.1097},
	{"Brockton", "MA", "02301", "508", 42.0834, -71.0184},
	{"Quincy", "MA", "02169", "617", 42.2529, -71.0023},
	{"Lynn", "MA", "01902", "781", 42.4668, -70.9495},
	{"New Bedford", "MA", "02740", "508", 41.6362, -70.9342},
	{"Framingham", "MA", "01702", "508", 42.2793, -71.4162},
	{"Pittsfield", "MA", "01201", "413", 42.4501, -73.2454},
}

var streets = []string{"Main Street", "Elm Street", "Maple Avenue", "Oak Street", "Pleasant Street", "Washington Street",
	"Park Avenue", "Highland Avenue", "Summer Street", "Chestnut Street", "Prospect Street", "Union Street", "Water Street",
	"Church Street", "School Street", "Cedar Lane", "Hillside Road", "River Road", "Lincoln Avenue", "Mill Street"}

var givenMale = []string{"James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Charles",
	"Daniel", "Matthew", "Anthony", "Mark", "Steven", "Paul", "Andrew", "Joshua", "Kevin", "Brian", "Luis", "Carlos", "Jose",
	"Wei", "Hiroshi", "Arjun", "Kwame", "Samuel", "Ethan", "Noah", "Liam", "Mateo", "Omar", "Ivan", "Dmitri", "Patrick"}
var givenFemale = []string{"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
	"Nancy", "Lisa", "Margaret", "Sandra", "Ashley", "Emily", "Michelle", "Amanda", "Melissa", "Maria", "Sofia", "Lucia",
	"Mei", "Yuki", "Priya", "Amara", "Olivia", "Emma", "Ava", "Isabella", "Fatima", "Anna", "Elena", "Grace", "Chloe", "Rosa"}
var families = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez",
	"Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
	"Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
	"Mitchell", "Carter", "Roberts", "Chen", "Patel", "Kim", "Okafor", "Murphy", "Sullivan", "O'Brien", "Kowalski", "Novak"}

var orgNames = [...][]string{
	hospital:   {"General Hospital", "Medical Center", "Regional Hospital", "Memorial Hospital"},
	clinic:     {"Family Medicine", "Primary Care Associates", "Community Health Center", "Internal Medicine Group"},
	rehab:      {"Physical Therapy", "Rehabilitation Services", "Sports and Spine Therapy", "Rehab and Wellness"},
	homeHealth: {"Home Health Services", "Visiting Nurse Association", "Home Care Partners", "Home Health Agency"},
}

// kindOf returns the kind of organization number n: the first four cover
// every kind; after that, clinics are the most common.
func kindOf(n int) orgKind {
	if n < 4 {
		return [...]orgKind{hospital, clinic, rehab, homeHealth}[n]
	}
	return [...]orgKind{clinic, hospital, clinic, rehab, clinic, homeHealth}[(n-4)%6]
}

// world is the deployment-wide part of a population: the organizations.
type world struct {
	payers []payer
	orgs   []*org
	byKind [4][]*org
}

// newWorld generates k organizations from the seed.
func newWorld(seed uint64, k int) *world {
	r := rand.New(rand.NewPCG(seed, streamWorld))
	w := &world{payers: newPayers(r)}
	for n := range k {
		o := &org{kind: kindOf(n), n: n, id: newID(r)}
		o.city = cities[r.IntN(len(cities))]
		base := o.city.name
		if r.IntN(2) == 0 {
			base = families[r.IntN(len(families))]
		}
		o.name = base + " " + pick(r, orgNames[o.kind])
		o.slug = strings.ToLower(strings.NewReplacer(" ", "-", "'", "").Replace(o.name))
		o.street = fmt.Sprintf("%d %s", 10+r.IntN(990), pick(r, streets))
		o.phone = phone(r, o.city)
		o.npi = npi(r)
		o.mrnSys = "urn:continuum:synth:" + o.slug + ":mrn"
		o.locs = locationsOf(r, o)
		staff := [...]int{hospital: 8, clinic: 5, rehab: 3, homeHealth: 4}[o.kind]
		for i := range staff {
			o.staff = append(o.staff, newClinician(r, o.kind, i))
		}
		w.orgs = append(w.orgs, o)
		w.byKind[o.kind] = append(w.byKind[o.kind], o)
	}
	return w
}

// Streams of the PCG source: the world and each patient draw from their own
// stream, so patient n is the same whatever else is generated.
const (
	streamWorld   = 0x636f6e74696e7575 // "continuu"
	streamPatient = 0x70617469656e7400 // "patient\x00" + n
)

func locationsOf(r *rand.Rand, o *org) []location {
	loc := func(name, c, d string) location {
		return location{id: newID(r), name: o.name + " " + name, typ: code{"http://terminology.hl7.org/CodeSystem/v3-RoleCode", c, d}}
	}
	switch o.kind {
	case hospital:
		return []location{loc("Emergency Department", "ER", "Emergency room"), loc("Inpatient Wards", "HOSP", "Hospital"),
			loc("Outpatient Clinic", "PROFF", "Provider's Office")}
	case clinic:
		return []location{loc("Office", "PROFF", "Provider's Office")}
	case rehab:
		return []location{loc("Therapy Gym", "RH", "Rehabilitation hospital")}
	default:
		return []location{loc("Office", "PROFF", "Provider's Office")}
	}
}

var (
	qualMD   = code{"http://terminology.hl7.org/CodeSystem/v2-0360|2.7", "MD", "Doctor of Medicine"}
	qualRN   = code{"http://terminology.hl7.org/CodeSystem/v2-0360|2.7", "RN", "Registered Nurse"}
	qualDPT  = code{"http://terminology.hl7.org/CodeSystem/v2-0360|2.7", "PHD", "Doctor of Philosophy"}
	roleDoc  = code{"http://terminology.hl7.org/CodeSystem/practitioner-role", "doctor", "Doctor"}
	roleNurs = code{"http://terminology.hl7.org/CodeSystem/practitioner-role", "nurse", "Nurse"}
)

func newClinician(r *rand.Rand, kind orgKind, i int) *clinician {
	c := &clinician{id: newID(r), roleID: newID(r), gender: "female"}
	if r.IntN(2) == 0 {
		c.gender = "male"
	}
	c.name = randomName(r, c.gender)
	c.npi = npi(r)
	c.qual, c.role, c.name.prefix = qualMD, roleDoc, "Dr."
	switch kind {
	case hospital:
		c.specialty = [...]code{sct("773568002", "Emergency medicine"), sct("419192003", "Internal medicine"),
			sct("394609007", "General surgery"), sct("394579002", "Cardiology")}[i%4]
		if i%4 == 3 && i > 4 {
			c.nurse = true
		}
	case clinic:
		c.specialty = sct("419772000", "Family practice")
		if i == 4 {
			c.nurse = true
		}
	case rehab:
		c.specialty = sct("394602003", "Rehabilitation - specialty")
		c.qual, c.name.prefix = qualDPT, ""
		c.name.suffix = "DPT"
	case homeHealth:
		c.specialty = sct("394810000", "Rheumatology")
		c.nurse = true
	}
	if c.nurse {
		c.qual, c.role, c.name.prefix, c.name.suffix = qualRN, roleNurs, "", "RN"
		c.specialty = sct("408443003", "General medical practice")
	}
	return c
}

func randomName(r *rand.Rand, gender string) name {
	n := name{family: pick(r, families)}
	if gender == "male" {
		n.given = pick(r, givenMale)
	} else {
		n.given = pick(r, givenFemale)
	}
	return n
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// phone returns a fictional number: 555-01xx numbers are reserved for
// fiction.
func phone(r *rand.Rand, c city) string {
	return fmt.Sprintf("%s-555-01%02d", c.area, r.IntN(100))
}

// npi returns a 10-digit number with a valid Luhn check digit over the
// 80840 prefix, the way NPIs are formed.
func npi(r *rand.Rand) string {
	d := make([]int, 9)
	d[0] = 1 + r.IntN(2)
	for i := 1; i < 9; i++ {
		d[i] = r.IntN(10)
	}
	sum := 24 // the constant for the 80840 prefix
	for i := 8; i >= 0; i-- {
		x := d[i]
		if (8-i)%2 == 0 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	var b strings.Builder
	for _, x := range d {
		b.WriteByte(byte('0' + x))
	}
	b.WriteByte(byte('0' + (10-sum%10)%10))
	return b.String()
}

// newID returns a random-looking id (the form of a version 4 UUID) drawn
// from r.
func newID(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	a = a&^0xf000 | 0x4000     // version 4
	b = b&^(0xc<<60) | 0x8<<60 // variant 10
	const hex = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i := range 16 {
		var x byte
		if i < 8 {
			x = byte(a >> (56 - 8*i))
		} else {
			x = byte(b >> (56 - 8*(i-8)))
		}
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hex[x>>4], hex[x&0xf]
		j += 2
	}
	return string(out[:])
}
