package synth

// Code systems (https://hl7.org/fhir/R4/terminologies-systems.html).
const (
	snomed    = "http://snomed.info/sct"
	loinc     = "http://loinc.org"
	rxnorm    = "http://www.nlm.nih.gov/research/umls/rxnorm"
	cvx       = "http://hl7.org/fhir/sid/cvx"
	ucum      = "http://unitsofmeasure.org"
	npiSystem = "http://hl7.org/fhir/sid/us-npi"
	actCode   = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	obsCat    = "http://terminology.hl7.org/CodeSystem/observation-category"
	interpSys = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	condClin  = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	condVer   = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	condCat   = "http://terminology.hl7.org/CodeSystem/condition-category"
	ombRace   = "urn:oid:2.16.840.1.113883.6.238"
)

// code is a Coding.
type code struct{ system, code, display string }

func (c code) coding() obj {
	return obj{{"system", c.system}, {"code", c.code}, {"display", c.display}}
}

// concept is a CodeableConcept with the one coding and its display as text.
func (c code) concept() obj {
	return obj{{"coding", arr{c.coding()}}, {"text", c.display}}
}

func sct(c, d string) code  { return code{snomed, c, d} }
func lnc(c, d string) code  { return code{loinc, c, d} }
func rxn(c, d string) code  { return code{rxnorm, c, d} }
func cvxc(c, d string) code { return code{cvx, c, d} }

// chronic is a long-term condition: how it is coded, how common it is, how
// it is treated and followed.
type chronic struct {
	code      code
	prevalent func(age int) float64 // lifetime probability by the reference date
	onsetMin  int                   // earliest age of onset
	meds      []code
	visits    int    // follow-up visits a year
	labs      []int  // lab panels ordered at follow-ups (indexes into panels)
	goal      string // the care plan's goal
	activity  code   // the care plan's main activity
	plan      code   // CarePlan category (SNOMED care plan)
}

// Panels, by index in panels.
const (
	panelBMP = iota
	panelLipid
	panelA1c
	panelCBC
	panelRenal
)

var chronics = []chronic{
	{code: sct("38341003", "Hypertensive disorder, systemic arterial (disorder)"), onsetMin: 30,
		prevalent: func(a int) float64 { return clamp01(float64(a-25) / 90) },
		meds:      []code{rxn("314076", "lisinopril 10 MG Oral Tablet"), rxn("197361", "amlodipine 5 MG Oral Tablet"), rxn("310798", "hydrochlorothiazide 25 MG Oral Tablet")},
		visits:    2, labs: []int{panelBMP}, goal: "Maintain blood pressure below 140/90 mm[Hg]",
		activity: sct("386463000", "Prescribed activity/exercise education"), plan: sct("443402002", "Lifestyle education regarding hypertension")},
	{code: sct("44054006", "Diabetes mellitus type 2 (disorder)"), onsetMin: 30,
		prevalent: func(a int) float64 { return clamp01(float64(a-20) / 350) },
		meds:      []code{rxn("860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet")},
		visits:    3, labs: []int{panelA1c, panelBMP}, goal: "Hemoglobin A1c total in Blood < 7.0",
		activity: sct("160670007", "Diabetic diet"), plan: sct("698360004", "Diabetes self management plan")},
	{code: sct("55822004", "Hyperlipidemia (disorder)"), onsetMin: 35,
		prevalent: func(a int) float64 { return clamp01(float64(a-30) / 120) },
		meds:      []code{rxn("312961", "simvastatin 20 MG Oral Tablet")},
		visits:    1, labs: []int{panelLipid}, goal: "LDL cholesterol below 100 mg/dL",
		activity: sct("229065009", "Exercise therapy"), plan: sct("736285004", "Hyperlipidemia clinical management plan")},
	{code: sct("195967001", "Asthma (disorder)"), onsetMin: 3,
		prevalent: func(int) float64 { return 0.08 },
		meds:      []code{rxn("745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"), rxn("895994", "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler")},
		visits:    1, goal: "Asthma symptoms controlled without night waking",
		activity: sct("710081004", "Smoking cessation therapy"), plan: sct("699728000", "Asthma self management")},
	{code: sct("13645005", "Chronic obstructive lung disease (disorder)"), onsetMin: 50,
		prevalent: func(a int) float64 { return clamp01(float64(a-45) / 500) },
		meds:      []code{rxn("745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler")},
		visits:    2, labs: []int{panelCBC}, goal: "Walk 30 minutes a day without needing to stop",
		activity: sct("710081004", "Smoking cessation therapy"), plan: sct("412776001", "Chronic obstructive pulmonary disease clinical management plan")},
	{code: sct("239873007", "Osteoarthritis of knee (disorder)"), onsetMin: 45,
		prevalent: func(a int) float64 { return clamp01(float64(a-40) / 200) },
		meds:      []code{rxn("313782", "acetaminophen 325 MG Oral Tablet"), rxn("310965", "ibuprofen 200 MG Oral Tablet")},
		visits:    1, goal: "Climb stairs with knee pain of 3/10 or less",
		activity: sct("229065009", "Exercise therapy"), plan: sct("408580007", "Physical activity target moderate exercise")},
	{code: sct("433144002", "Chronic kidney disease stage 3 (disorder)"), onsetMin: 50,
		prevalent: func(a int) float64 { return clamp01(float64(a-45) / 600) },
		meds:      []code{rxn("314076", "lisinopril 10 MG Oral Tablet")},
		visits:    2, labs: []int{panelRenal, panelCBC}, goal: "Keep estimated GFR stable above 45",
		activity: sct("160670007", "Diabetic diet"), plan: sct("736372004", "Chronic kidney disease clinical management plan")},
	{code: sct("49436004", "Atrial fibrillation (disorder)"), onsetMin: 55,
		prevalent: func(a int) float64 { return clamp01(float64(a-50) / 700) },
		meds:      []code{rxn("855332", "warfarin sodium 5 MG Oral Tablet")},
		visits:    3, labs: []int{panelCBC}, goal: "No stroke or major bleeding",
		activity: sct("386463000", "Prescribed activity/exercise education"), plan: sct("736353004", "Atrial fibrillation clinical management plan")},
	{code: sct("53741008", "Coronary arteriosclerosis (disorder)"), onsetMin: 45,
		prevalent: func(a int) float64 { return clamp01(float64(a-40) / 450) },
		meds:      []code{rxn("243670", "aspirin 81 MG Oral Tablet"), rxn("309362", "clopidogrel 75 MG Oral Tablet")},
		visits:    2, labs: []int{panelLipid}, goal: "No chest pain on exertion",
		activity: sct("229065009", "Exercise therapy"), plan: sct("734163000", "Care plan (record artifact)")},
	{code: sct("370143000", "Major depressive disorder (disorder)"), onsetMin: 14,
		prevalent: func(a int) float64 { return 0.07 },
		meds:      []code{rxn("312940", "sertraline 50 MG Oral Tablet")},
		visits:    2, goal: "PHQ-2 score below 3",
		activity: sct("228557008", "Cognitive and behavioral therapy"), plan: sct("736958000", "Depression care management plan")},
}

func clamp01(x float64) float64 { return max(0, min(1, x)) }

// acute is a short illness treated in one visit.
type acute struct {
	code      code
	emergency bool // seen in the emergency department rather than the clinic
	days      int  // typical duration
	med       *code
	proc      *code
	reason    string // chief complaint, for the note
}

func ptr(c code) *code { return &c }

var acutes = []acute{
	{code: sct("195662009", "Acute viral pharyngitis (disorder)"), days: 7, reason: "sore throat and fever",
		med: ptr(rxn("313782", "acetaminophen 325 MG Oral Tablet"))},
	{code: sct("10509002", "Acute bronchitis (disorder)"), days: 14, reason: "cough for a week",
		proc: ptr(sct("399208008", "Plain X-ray of chest (procedure)"))},
	{code: sct("444814009", "Viral sinusitis (disorder)"), days: 10, reason: "facial pressure and congestion"},
	{code: sct("68566005", "Urinary tract infectious disease (disorder)"), days: 7, reason: "burning on urination",
		med: ptr(rxn("309309", "ciprofloxacin 500 MG Oral Tablet"))},
	{code: sct("65363002", "Otitis media (disorder)"), days: 10, reason: "ear pain",
		med: ptr(rxn("562251", "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet"))},
	{code: sct("43878008", "Streptococcal sore throat (disorder)"), days: 10, reason: "sore throat with swollen glands",
		med: ptr(rxn("834102", "penicillin V potassium 500 MG Oral Tablet"))},
	{code: sct("44465007", "Sprain of ankle (disorder)"), emergency: true, days: 21, reason: "ankle injury after a fall",
		proc: ptr(sct("168594001", "Plain X-ray of ankle (procedure)")), med: ptr(rxn("310965", "ibuprofen 200 MG Oral Tablet"))},
	{code: sct("284551006", "Laceration of foot (disorder)"), emergency: true, days: 14, reason: "cut to the foot",
		proc: ptr(sct("288086009", "Suture open wound (procedure)"))},
	{code: sct("29857009", "Chest pain (finding)"), emergency: true, days: 1, reason: "chest pain",
		proc: ptr(sct("29303009", "Electrocardiographic procedure (procedure)"))},
	{code: sct("110030002", "Concussion injury of brain (disorder)"), emergency: true, days: 30, reason: "head injury",
		proc: ptr(sct("303653007", "Computed tomography of head (procedure)"))},
}

// admission is a reason for a hospital stay.
type admission struct {
	code   code
	proc   code
	minAge int
	days   [2]int // length of stay range
	rehab  bool   // followed by physical therapy
	home   bool   // followed by home health visits
	med    code
}

var admissions = []admission{
	{code: sct("233604007", "Pneumonia (disorder)"), proc: sct("371908008", "Oxygen administration by mask (procedure)"), days: [2]int{2, 6}, home: true,
		med: rxn("562251", "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet")},
	{code: sct("22298006", "Myocardial infarction (disorder)"), proc: sct("415070008", "Percutaneous coronary intervention (procedure)"), minAge: 40, days: [2]int{3, 7}, rehab: true,
		med: rxn("309362", "clopidogrel 75 MG Oral Tablet")},
	{code: sct("5913000", "Fracture of neck of femur (disorder)"), proc: sct("52734007", "Total replacement of hip (procedure)"), minAge: 60, days: [2]int{4, 9}, rehab: true, home: true,
		med: rxn("313782", "acetaminophen 325 MG Oral Tablet")},
	{code: sct("230690007", "Cerebrovascular accident (disorder)"), proc: sct("303653007", "Computed tomography of head (procedure)"), minAge: 50, days: [2]int{4, 12}, rehab: true, home: true,
		med: rxn("243670", "aspirin 81 MG Oral Tablet")},
	{code: sct("84114007", "Heart failure (disorder)"), proc: sct("40701008", "Echocardiography (procedure)"), minAge: 50, days: [2]int{3, 8}, home: true,
		med: rxn("314076", "lisinopril 10 MG Oral Tablet")},
	{code: sct("74400008", "Appendicitis (disorder)"), proc: sct("80146002", "Excision of appendix (procedure)"), days: [2]int{1, 4},
		med: rxn("313782", "acetaminophen 325 MG Oral Tablet")},
}

var allergies = []struct {
	code     code
	category string // food, medication, environment
	reaction code
}{
	{rxn("7980", "penicillin G"), "medication", sct("247472004", "Wheal (finding)")},
	{rxn("2670", "codeine"), "medication", sct("422587007", "Nausea (finding)")},
	{sct("91935009", "Allergy to peanuts"), "food", sct("39579001", "Anaphylaxis (disorder)")},
	{sct("300913006", "Shellfish allergy"), "food", sct("271807003", "Eruption of skin (disorder)")},
	{sct("418689008", "Allergy to grass pollen"), "environment", sct("21626009", "Cutaneous hypersensitivity (disorder)")},
	{sct("232350006", "House dust mite allergy"), "environment", sct("267036007", "Dyspnea (finding)")},
	{sct("300916003", "Latex allergy"), "environment", sct("247472004", "Wheal (finding)")},
}

// vaccines.
var (
	vxFlu     = cvxc("140", "Influenza, seasonal, injectable, preservative free")
	vxTd      = cvxc("113", "Td (adult) preservative free")
	vxTdap    = cvxc("115", "Tdap")
	vxPCV13   = cvxc("133", "Pneumococcal conjugate PCV 13")
	vxPPSV23  = cvxc("33", "pneumococcal polysaccharide vaccine, 23 valent")
	vxZoster  = cvxc("187", "zoster vaccine recombinant")
	vxHepB    = cvxc("08", "Hep B, adolescent or pediatric")
	vxDTaP    = cvxc("20", "DTaP")
	vxIPV     = cvxc("10", "IPV")
	vxMMR     = cvxc("03", "MMR")
	vxVAR     = cvxc("21", "varicella")
	vxHib     = cvxc("49", "Hib (PRP-OMP)")
	vxHPV     = cvxc("62", "HPV, quadrivalent")
	vxMening  = cvxc("114", "meningococcal MCV4P")
	vxCovid19 = cvxc("208", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose")
)

// childhood is the routine schedule by age in months.
var childhood = []struct {
	months int
	vx     code
}{
	{0, vxHepB}, {2, vxHepB}, {2, vxDTaP}, {2, vxIPV}, {2, vxHib}, {2, vxPCV13},
	{4, vxDTaP}, {4, vxIPV}, {4, vxHib}, {4, vxPCV13}, {6, vxDTaP}, {6, vxHepB}, {6, vxPCV13},
	{12, vxMMR}, {12, vxVAR}, {15, vxDTaP}, {15, vxHib}, {48, vxDTaP}, {48, vxIPV}, {48, vxMMR}, {48, vxVAR},
	{132, vxTdap}, {132, vxHPV}, {132, vxMening}, {138, vxHPV}, {192, vxMening},
}

// Encounter types.
var (
	encWellness = sct("410620009", "Well child visit (procedure)")
	encCheckup  = sct("185349003", "Encounter for check up (procedure)")
	encFollowUp = sct("390906007", "Follow-up encounter (procedure)")
	encSymptom  = sct("185345009", "Encounter for symptom (procedure)")
	encED       = sct("50849002", "Emergency room admission (procedure)")
	encInpat    = sct("32485007", "Hospital admission (procedure)")
	encHome     = sct("439708006", "Home visit (procedure)")
	encTherapy  = sct("91251008", "Physical therapy procedure (procedure)")
)

// Procedures done at routine visits.
var (
	procMedRec     = sct("430193006", "Medication reconciliation (procedure)")
	procAssessment = sct("710824005", "Assessment of health and social care needs (procedure)")
	procDepScreen  = sct("171207006", "Depression screening (procedure)")
	procSpirometry = sct("127783003", "Spirometry (procedure)")
	procColonosc   = sct("73761001", "Colonoscopy (procedure)")
	procMammo      = sct("71651007", "Mammography (procedure)")
	procPT         = sct("91251008", "Physical therapy procedure (procedure)")
	procExercise   = sct("229065009", "Exercise therapy (regime/therapy)")
	procWound      = sct("225358003", "Wound care (regime/therapy)")
	procVitalsHome = sct("422618004", "Measurement of vital signs (procedure)")
)
