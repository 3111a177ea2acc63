package synth

import "math"

// measure is a quantitative observation: vital sign or lab.
type measure struct {
	code     code
	unit     string // UCUM
	digits   int    // fraction digits written
	low      float64
	high     float64 // reference range; 0,0 when none
	profile  string
	category string
}

func vital(c, d, unit string, digits int, profile string) measure {
	return measure{code: lnc(c, d), unit: unit, digits: digits, category: "vital-signs",
		profile: "http://hl7.org/fhir/StructureDefinition/" + profile}
}

func lab(c, d, unit string, digits int, low, high float64) measure {
	return measure{code: lnc(c, d), unit: unit, digits: digits, low: low, high: high, category: "laboratory",
		profile: "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"}
}

// Vital signs (https://hl7.org/fhir/R4/observation-vitalsigns.html).
var (
	vBPPanel  = vital("85354-9", "Blood pressure panel with all children optional", "", 0, "bp")
	vSystolic = lnc("8480-6", "Systolic blood pressure")
	vDiastol  = lnc("8462-4", "Diastolic blood pressure")
	vHR       = vital("8867-4", "Heart rate", "/min", 0, "heartrate")
	vRR       = vital("9279-1", "Respiratory rate", "/min", 0, "resprate")
	vTemp     = vital("8310-5", "Body temperature", "Cel", 1, "bodytemp")
	vWeight   = vital("29463-7", "Body weight", "kg", 1, "bodyweight")
	vHeight   = vital("8302-2", "Body height", "cm", 1, "bodyheight")
	vBMI      = vital("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 1, "bmi")
	vSpO2     = measure{code: lnc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"), unit: "%", category: "vital-signs",
		profile: "http://hl7.org/fhir/us/core/StructureDefinition/us-core-pulse-oximetry"}
	vPain = measure{code: lnc("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"), unit: "{score}", category: "survey",
		profile: ""}
	vPHQ2 = measure{code: lnc("55758-7", "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]"), unit: "{score}", category: "survey"}
)

// panel is a laboratory panel: a DiagnosticReport with its results.
type panel struct {
	code  code
	tests []measure
}

var panels = []panel{
	panelBMP: {lnc("51990-0", "Basic metabolic panel - Blood"), []measure{
		lab("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 0, 70, 99),
		lab("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 0, 7, 20),
		lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 2, 0.6, 1.3),
		lab("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 1, 8.6, 10.3),
		lab("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 0, 136, 145),
		lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 1, 3.5, 5.1),
		lab("2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L", 0, 98, 107),
		lab("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "mmol/L", 0, 22, 29),
	}},
	panelLipid: {lnc("57698-3", "Lipid panel with direct LDL - Serum or Plasma"), []measure{
		lab("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 0, 0, 200),
		lab("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", 0, 0, 150),
		lab("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "mg/dL", 0, 0, 100),
		lab("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", 0, 40, 0),
	}},
	panelA1c: {lnc("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), []measure{
		lab("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 1, 4.0, 5.6),
	}},
	panelCBC: {lnc("58410-2", "CBC panel - Blood by Automated count"), []measure{
		lab("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 1, 4.5, 11.0),
		lab("789-8", "Erythrocytes [#/volume] in Blood by Automated count", "10*6/uL", 2, 4.2, 5.9),
		lab("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 1, 12.0, 17.5),
		lab("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%", 1, 36, 50),
		lab("787-2", "MCV [Entitic volume] by Automated count", "fL", 1, 80, 100),
		lab("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 0, 150, 450),
	}},
	panelRenal: {lnc("24362-6", "Renal function 2000 panel - Serum or Plasma"), []measure{
		lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 2, 0.6, 1.3),
		lab("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 0, 7, 20),
		lab("33914-3", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (MDRD)", "mL/min/{1.73_m2}", 0, 60, 0),
		lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 1, 3.5, 5.1),
	}},
}

// interpretation returns the v3 ObservationInterpretation code of x
// against m's reference range.
func (m measure) interpretation(x float64) code {
	switch {
	case m.low != 0 && x < m.low:
		return code{interpSys, "L", "Low"}
	case m.high != 0 && x > m.high:
		return code{interpSys, "H", "High"}
	}
	return code{interpSys, "N", "Normal"}
}

// round rounds x to m's digits, so that the interpretation agrees with the
// value written.
func (m measure) round(x float64) float64 {
	p := math.Pow10(m.digits)
	return math.Round(x*p) / p
}

// Social history.
var (
	socSmoking  = lnc("72166-2", "Tobacco smoking status")
	neverSmoker = sct("266919005", "Never smoked tobacco (finding)")
	exSmoker    = sct("8517006", "Ex-smoker (finding)")
	curSmoker   = sct("449868002", "Smokes tobacco daily (finding)")
	socAlcohol  = lnc("74013-4", "Alcoholic drinks per day")
	socHousing  = lnc("71802-3", "Housing status")
	housed      = code{"http://loinc.org", "LA31993-1", "I have housing"}
)
