package bulkimport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/interaction"
)

// document imports one JSON document: a Bundle, or a single resource.
func (im *Importer) document(ctx context.Context, pl *pool, name string, data []byte) {
	// A file recorded as imported is skipped before the cost of parsing
	// it: a re-run of Bundles costs one read per file.
	if id, _ := ledgerID(data); im.imported(ctx, id) {
		return
	}
	// A plain parse, to route the file; the interaction validates.
	root, err := fhir.Parse(data)
	if err != nil {
		im.fail(Failure{File: name, Entry: -1, Err: fmt.Errorf("not JSON: %v", err)})
		return
	}
	if root.ResourceType() != "Bundle" {
		c := &chunk{file: name, data: data, ends: []int{len(data)}, lines: []int{1}}
		pl.run(func() { im.writeChunk(ctx, c) })
		return
	}
	switch typ := root.Str("type"); typ {
	case "transaction":
		// Independent of one another once the batches before them are
		// done: in parallel.
		pl.run(func() { im.transaction(ctx, name, data, &root) })
	case "batch":
		// A batch usually creates what later transactions refer to
		// conditionally (Synthea's organizations and practitioners): a
		// barrier on both sides.
		pl.wait()
		im.batch(ctx, name, data, &root)
	case "collection", "searchset", "document":
		im.collection(ctx, pl, name, &root)
	default:
		im.fail(Failure{File: name, Entry: -1, Err: fmt.Errorf("a Bundle of type %q cannot be imported (transaction, batch, collection, searchset or document)", typ)})
	}
}

// ledgerID is the id of the Provenance that records the import of a file
// with this content.
func ledgerID(data []byte) (id, digest string) {
	sum := sha256.Sum256(data)
	digest = hex.EncodeToString(sum[:])
	return "import-" + digest[:32], digest
}

// imported reports whether the file's Provenance exists; the file is then
// counted as skipped.
func (im *Importer) imported(ctx context.Context, id string) bool {
	_, err := im.opts.Service.Read(ctx, interaction.ReadRequest{Type: "Provenance", ID: id})
	if err != nil {
		return false
	}
	im.mu.Lock()
	im.sum.SkippedFiles++
	im.mu.Unlock()
	return true
}

// provenance returns the ledger record of a file: it names the file (by
// name and SHA-256) and targets what the file produced.
func (im *Importer) provenance(id, digest, name string, targets []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"resourceType":"Provenance","id":%s,"target":[`, quote(id))
	for i, t := range targets {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"reference":%s}`, quote(t))
	}
	fmt.Fprintf(&b, `],"recorded":%s,`, quote(im.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")))
	b.WriteString(`"activity":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-DataOperation","code":"CREATE","display":"create"}],"text":"continuum import"},`)
	b.WriteString(`"agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/provenance-participant-type","code":"assembler","display":"Assembler"}]},"who":{"display":"continuum import"}}],`)
	fmt.Fprintf(&b, `"entity":[{"role":"source","what":{"identifier":{"system":"urn:ietf:rfc:3986","value":%s},"display":%s}}]}`,
		quote("urn:sha256:"+digest), quote(filepath.Base(name)))
	return []byte(b.String())
}

func quote(s string) string {
	v := fhir.Value{Kind: fhir.String, Text: s}
	return string(v.Marshal())
}

// bundleEntry is what the importer needs of an entry.
type bundleEntry struct {
	method  string
	target  string // fullUrl, or Type/id of a PUT; "" when it cannot be named
	ifNone  bool
	hasBody bool
}

func entriesOf(root *fhir.Value) []bundleEntry {
	list, _ := root.Get("entry")
	if list == nil {
		return nil
	}
	out := make([]bundleEntry, len(list.Items))
	for i := range list.Items {
		e := &list.Items[i]
		be := bundleEntry{}
		if req, ok := e.Get("request"); ok {
			be.method = req.Str("method")
			be.ifNone = req.Str("ifNoneExist") != ""
			url := req.Str("url")
			if be.method == "PUT" && !strings.Contains(url, "?") {
				be.target = strings.Trim(url, "/")
			}
		}
		if full := e.Str("fullUrl"); full != "" && (be.method == "POST" || be.method == "PUT") {
			be.target = full
		}
		_, be.hasBody = e.Get("resource")
		if be.method != "POST" && be.method != "PUT" {
			be.target = ""
		}
		out[i] = be
	}
	return out
}

// transaction imports a transaction Bundle in one store transaction,
// together with its Provenance.
func (im *Importer) transaction(ctx context.Context, name string, data []byte, root *fhir.Value) {
	id, digest := ledgerID(data)
	entries := entriesOf(root)
	var targets []string
	for _, e := range entries {
		if e.target != "" {
			targets = append(targets, e.target)
		}
	}
	body := data
	if len(targets) > 0 {
		prov, err := fhir.Parse(im.provenance(id, digest, name, targets))
		if err != nil {
			panic(err) // built above: always JSON
		}
		list, _ := root.Get("entry")
		list.Items = append(list.Items, fhir.Value{Kind: fhir.Object, Members: []fhir.Member{
			{Name: "fullUrl", Value: fhir.Value{Kind: fhir.String, Text: "urn:uuid:" + uuidOf(digest)}},
			{Name: "resource", Value: prov},
			{Name: "request", Value: fhir.Value{Kind: fhir.Object, Members: []fhir.Member{
				{Name: "method", Value: fhir.Value{Kind: fhir.String, Text: "PUT"}},
				{Name: "url", Value: fhir.Value{Kind: fhir.String, Text: "Provenance/" + id}},
			}}},
		}})
		body = root.Marshal()
	}
	res, err := im.opts.Service.Bundle(ctx, interaction.BundleRequest{Org: im.opts.Org, Body: body})
	if err != nil {
		// All or nothing: every entry failed. One report for the file,
		// with the entry the issues point at.
		im.fail(Failure{File: name, Entry: -1, Err: fmt.Errorf("transaction not imported: %v", errText(err))})
		if n := len(entries) - 1; n > 0 {
			im.mu.Lock()
			im.sum.Failed += n
			im.done.Add(int64(n))
			im.mu.Unlock()
		}
		return
	}
	im.mu.Lock()
	for i, r := range res.Entries[:len(entries)] {
		im.countLocked(entryStatus(entries[i], r))
	}
	im.mu.Unlock()
}

// entryStatus maps a Bundle entry's response to an import status.
func entryStatus(e bundleEntry, r interaction.EntryResult) interaction.ImportStatus {
	switch {
	case strings.HasPrefix(r.Status, "201"):
		return interaction.ImportCreated
	case e.method == "POST" && e.ifNone:
		return interaction.ImportUnchanged // If-None-Exist matched
	}
	return interaction.ImportUpdated
}

// uuidOf formats the first 128 bits of a hex digest as a UUID.
func uuidOf(digest string) string {
	return digest[0:8] + "-" + digest[8:12] + "-" + digest[12:16] + "-" + digest[16:20] + "-" + digest[20:32]
}

// batch imports a batch Bundle: each entry on its own; the Provenance is
// written afterwards with what succeeded.
func (im *Importer) batch(ctx context.Context, name string, data []byte, root *fhir.Value) {
	id, digest := ledgerID(data)
	entries := entriesOf(root)
	res, err := im.opts.Service.Bundle(ctx, interaction.BundleRequest{Org: im.opts.Org, Body: data})
	if err != nil {
		im.fail(Failure{File: name, Entry: -1, Err: errText(err)})
		return
	}
	var targets []string
	for i, r := range res.Entries {
		if r.Err != nil {
			im.fail(Failure{File: name, Entry: i, Err: errText(r.Err)})
			continue
		}
		im.count(entryStatus(entries[i], r))
		if r.Version != nil {
			targets = append(targets, r.Version.Type+"/"+r.Version.ID)
		}
	}
	if len(targets) == 0 {
		return
	}
	prov := im.provenance(id, digest, name, targets)
	_, err = im.opts.Service.Update(ctx, interaction.UpdateRequest{Type: "Provenance", ID: id, Body: prov, Org: im.opts.Org})
	if err != nil {
		im.fail(Failure{File: name, Entry: -1, Err: fmt.Errorf("recording the import: %v", errText(err))})
	}
}

// collection imports the resources of a collection (or searchset or
// document) Bundle like NDJSON lines: updates with their ids.
func (im *Importer) collection(ctx context.Context, pl *pool, name string, root *fhir.Value) {
	list, _ := root.Get("entry")
	if list == nil {
		return
	}
	c := &chunk{file: name}
	var entryOf []int
	flush := func() {
		if len(c.ends) == 0 {
			return
		}
		full, idx := c, entryOf
		pl.run(func() { im.writeEntries(ctx, full, idx) })
		c, entryOf = &chunk{file: name}, nil
	}
	for i := range list.Items {
		res, ok := list.Items[i].Get("resource")
		if !ok {
			im.fail(Failure{File: name, Entry: i, Err: fmt.Errorf("the entry has no resource")})
			continue
		}
		c.data = append(c.data, res.Marshal()...)
		c.ends = append(c.ends, len(c.data))
		c.lines = append(c.lines, 0)
		entryOf = append(entryOf, i)
		if len(c.ends) >= im.opts.ChunkSize {
			flush()
		}
	}
	flush()
}

// writeEntries is writeChunk for Bundle entries: failures name the entry.
func (im *Importer) writeEntries(ctx context.Context, c *chunk, entryOf []int) {
	bodies := c.bodies()
	ids := make([]string, len(bodies))
	for i, b := range bodies {
		ids[i] = contentID(b)
	}
	for start := 0; start < len(bodies); {
		res, err := im.opts.Service.Import(ctx, interaction.ImportRequest{Org: im.opts.Org, Resources: bodies[start:], IDs: ids[start:]})
		if err != nil {
			// One at a time, to find the culprit.
			res1, err1 := im.opts.Service.Import(ctx, interaction.ImportRequest{Org: im.opts.Org, Resources: bodies[start : start+1], IDs: ids[start : start+1]})
			if err1 != nil {
				im.fail(Failure{File: c.file, Entry: entryOf[start], Err: errText(err1)})
			} else if res1[0].Err != nil {
				im.fail(Failure{File: c.file, Entry: entryOf[start], Err: errText(res1[0].Err)})
			} else {
				im.count(res1[0].Status)
			}
			start++
			continue
		}
		for i, r := range res {
			if r.Err != nil {
				im.fail(Failure{File: c.file, Entry: entryOf[start+i], Err: errText(r.Err)})
				continue
			}
			im.count(r.Status)
		}
		break
	}
}
