package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/continuum-ehr/continuum/internal/fhir/spec"
	"github.com/continuum-ehr/continuum/internal/store"
)

var writeDict = flag.Bool("write-dict", false, "regenerate fhir-r4-1.zdict from the R4 definitions (only for a new dictionary: rows need the old one)")

// dict1SHA256 freezes dictionary 1: stored rows decompress only with exactly
// these bytes.
const dict1SHA256 = "69df4bfc422ddbf1d3c5a0ef33fe12649582c2dcfdc19b0c4ebf6d4f0532724c"

// TestDictionary checks that dictionary 1 is the frozen one. With
// -write-dict it writes the dictionary generateDictionary makes instead
// (then dict1SHA256 must change, which is only right for a new dictionary
// with its own marker).
func TestDictionary(t *testing.T) {
	if *writeDict {
		if err := os.WriteFile("fhir-r4-1.zdict", generateDictionary(spec.R4()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	sum := sha256.Sum256(dict1)
	if got := hex.EncodeToString(sum[:]); got != dict1SHA256 {
		t.Fatalf("fhir-r4-1.zdict changed (sha256 %s): rows compressed with dictionary 1 would not read", got)
	}
}

// generateDictionary builds a raw zstd dictionary of FHIR R4 JSON from the
// definitions alone: the JSON names of every element of every resource and
// common data type, the code systems of required bindings, resource types as
// they start a resource and a reference, and the fragments every Observation
// or Condition repeats. zstd finds matches anywhere in it; nearer the end
// is cheaper, so the most common fragments come last.
func generateDictionary(s *spec.Spec) []byte {
	var b bytes.Buffer
	names := map[string]bool{}
	seen := map[*spec.Element]bool{}
	var walk func(e *spec.Element)
	walk = func(e *spec.Element) {
		if seen[e] {
			return
		}
		seen[e] = true
		for _, c := range e.Children {
			if c.Choice {
				for _, t := range c.Types {
					names[c.Name+strings.ToUpper(t.Code[:1])+t.Code[1:]] = true
				}
			} else {
				names[c.Name] = true
			}
			walk(c)
		}
	}
	for _, rt := range s.ResourceTypes() {
		walk(s.Type(rt).Root)
	}
	for _, dt := range []string{"HumanName", "Address", "ContactPoint", "Identifier", "CodeableConcept", "Coding", "Quantity", "Period", "Reference", "Meta", "Narrative", "Extension", "Annotation", "Dosage", "Timing", "Attachment", "Range", "Ratio"} {
		walk(s.Type(dt).Root)
	}
	var ns []string
	for n := range names {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	for _, n := range ns {
		b.WriteString(`"` + n + `":`)
	}
	systems := map[string]bool{}
	for _, rt := range s.ResourceTypes() {
		seenVS := map[*spec.Element]bool{}
		var walkVS func(e *spec.Element)
		walkVS = func(e *spec.Element) {
			if seenVS[e] {
				return
			}
			seenVS[e] = true
			for _, c := range e.Children {
				if c.Binding != nil {
					if vs := s.ValueSet(c.Binding.ValueSet); vs != nil {
						for _, sys := range vs.Systems() {
							systems[sys] = true
						}
					}
				}
				walkVS(c)
			}
		}
		walkVS(s.Type(rt).Root)
	}
	var ss []string
	for n := range systems {
		ss = append(ss, n)
	}
	sort.Strings(ss)
	for _, sys := range ss {
		b.WriteString(`{"system":"` + sys + `","code":"`)
	}
	for _, rt := range s.ResourceTypes() {
		b.WriteString(`{"resourceType":"` + rt + `","id":"`)
		b.WriteString(`{"reference":"` + rt + `/`)
	}
	common := []string{
		`"coding":[{"system":"http://terminology.hl7.org/CodeSystem/`,
		`"coding":[{"system":"http://snomed.info/sct","code":"`,
		`"valueQuantity":{"value":`, `,"unit":"`, `","system":"http://unitsofmeasure.org","code":"`,
		`"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"`,
		`"identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:`,
		`"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/`,
		`"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">`,
		`","display":"`, `"},"text":"`, `"status":"final",`, `"status":"active",`, `"status":"completed",`,
		`"subject":{"reference":"Patient/`, `"encounter":{"reference":"Encounter/`,
		`"coding":[{"system":"http://loinc.org","code":"`,
		`,"meta":{"versionId":"1","lastUpdated":"2024-01-01T00:00:00.000Z"}`,
		`"effectiveDateTime":"20`, `-04:00","issued":"20`, `.000-04:00"`,
	}
	for _, c := range common {
		b.WriteString(c)
	}
	d := b.Bytes()
	if len(d) > 110<<10 {
		d = d[len(d)-110<<10:]
	}
	return d
}

// TestCodec: bodies round-trip byte for byte, compressed bodies carry the
// marker, uncompressed and legacy rows read as they are, and corrupt rows
// fail with an error instead of a panic.
func TestCodec(t *testing.T) {
	c, err := newCodec(true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	plain, err := newCodec(false)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.close()
	body := []byte(benchObservation)
	z := c.encode(body)
	if z[0] != bodyZstd1 || len(z) >= len(body)/2 {
		t.Errorf("compressed %d bytes to %d (marker 0x%02x)", len(body), len(z), z[0])
	}
	for _, stored := range [][]byte{z, plain.encode(body), body} {
		got, err := c.decode(stored)
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("decode(%.10q) = %.40q, %v", stored, got, err)
		}
	}
	if got := c.encode(nil); got != nil {
		t.Errorf("a tombstone encodes to %q", got)
	}
	for _, bad := range [][]byte{{bodyZstd1}, append([]byte{bodyZstd1}, z[3:]...), []byte("x{}"), z[:len(z)/2]} {
		if _, err := c.decode(bad); err == nil {
			t.Errorf("decode(%q) succeeded", bad)
		}
	}
}

// TestMixedRows: a store written uncompressed (as before compression
// existed) and then compressed reads every version of both kinds, on both
// backends' SQL.
func TestMixedRows(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func(uncompressed bool) *DB {
		db, err := OpenSQLite(ctx, dir, Options{Uncompressed: uncompressed})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	res := benchResource(t)
	put := func(db *DB) *store.Version {
		var v *store.Version
		if err := db.Update(ctx, func(tx store.Tx) (err error) {
			v, err = tx.Create(ctx, store.Write{Resource: res, Org: "o"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	old := open(true)
	v1 := put(old)
	_ = old.Close()
	db := open(false)
	defer db.Close()
	v2 := put(db)
	var raw1, raw2 []byte
	if err := db.read.QueryRow("SELECT v.body FROM versions v JOIN resources r ON r.rkey = v.rkey WHERE r.id = ?", v1.ID).Scan(&raw1); err != nil {
		t.Fatal(err)
	}
	if err := db.read.QueryRow("SELECT v.body FROM versions v JOIN resources r ON r.rkey = v.rkey WHERE r.id = ?", v2.ID).Scan(&raw2); err != nil {
		t.Fatal(err)
	}
	if raw1[0] != '{' || raw2[0] != bodyZstd1 || len(raw2) >= len(raw1)/2 {
		t.Errorf("stored %d bytes starting %q uncompressed, %d starting %q compressed", len(raw1), raw1[:1], len(raw2), raw2[:1])
	}
	for _, v := range []*store.Version{v1, v2} {
		got, err := db.Read(ctx, "Observation", v.ID)
		if err != nil || !bytes.Equal(got.Body, v.Body) {
			t.Errorf("read %s: %v; body differs: %v", v.ID, err, !bytes.Equal(got.Body, v.Body))
		}
	}
	var page *store.HistoryPage
	if err := db.View(ctx, func(tx store.ReadTx) (err error) {
		page, err = tx.History(ctx, store.HistoryQuery{Count: 10})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(page.Versions) != 2 || !bytes.Equal(page.Versions[0].Body, v2.Body) || !bytes.Equal(page.Versions[1].Body, v1.Body) {
		t.Errorf("history = %d versions", len(page.Versions))
	}
}
