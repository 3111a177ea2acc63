// Package storetest is the conformance suite of the storage contract: every
// backend of internal/store runs Run and must pass all of it, so the contract
// means the same on SQLite and PostgreSQL (like testing/fstest for fs.FS).
//
// The suite uses only the contract. Each subtest opens its own empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/outcome"
	"github.com/continuum-ehr/continuum/internal/store"
)

// Open returns a new, empty store for one subtest; the suite closes it.
type Open func(t *testing.T) store.Store

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st store.Store)
	}{
		{"CreateRead", testCreateRead},
		{"CreateAssignsRandomIDs", testCreateAssignsRandomIDs},
		{"PutCreatesThenUpdates", testPutCreatesThenUpdates},
		{"StampsMeta", testStampsMeta},
		{"Unknown", testUnknown},
		{"Delete", testDelete},
		{"IfMatch", testIfMatch},
		{"ConcurrentIfMatch", testConcurrentIfMatch},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentFailures", testConcurrentFailures},
		{"History", testHistory},
		{"HistoryPagingStable", testHistoryPagingStable},
		{"HistorySince", testHistorySince},
		{"HistoryAt", testHistoryAt},
		{"HistoryNarrowed", testHistoryNarrowed},
		{"AuditChain", testAuditChain},
		{"SnapshotStable", testSnapshotStable},
		{"Tenancy", testTenancy},
		{"FindByIdentifier", testFindByIdentifier},
		{"ConcurrentConditionalCreate", testConcurrentConditionalCreate},
		{"Atomicity", testAtomicity},
		{"Jobs", testJobs},
		{"JobLeaseExpiry", testJobLeaseExpiry},
		{"JobRetries", testJobRetries},
		{"SearchTypes", testSearchTypes},
		{"SearchNarrowing", testSearchNarrowing},
		{"SearchNotSupported", testSearchNotSupported},
		{"SearchSortPaging", testSearchSortPaging},
		{"SearchIncludes", testSearchIncludes},
		{"SearchFollowsWrites", testSearchFollowsWrites},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, st)
		})
	}
}

const org = "org-a"

// resource parses JSON for a test resource.
func resource(t *testing.T, format string, args ...any) *fhir.Value {
	t.Helper()
	v, err := fhir.Parse([]byte(fmt.Sprintf(format, args...)))
	if err != nil {
		t.Fatalf("bad test resource: %v", err)
	}
	return &v
}

func patient(t *testing.T, id, family string) *fhir.Value {
	if id == "" {
		return resource(t, `{"resourceType":"Patient","name":[{"family":%q}]}`, family)
	}
	return resource(t, `{"resourceType":"Patient","id":%q,"name":[{"family":%q}]}`, id, family)
}

func update(t *testing.T, st store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := st.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, st store.Store, fn func(tx store.ReadTx) error) {
	t.Helper()
	if err := st.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func create(t *testing.T, st store.Store, res *fhir.Value, org string) *store.Version {
	t.Helper()
	var v *store.Version
	update(t, st, func(tx store.Tx) (err error) {
		v, err = tx.Create(context.Background(), store.Write{Resource: res, Org: org})
		return err
	})
	return v
}

func put(t *testing.T, st store.Store, res *fhir.Value, org, ifMatch string) (*store.Version, error) {
	t.Helper()
	var v *store.Version
	err := st.Update(context.Background(), func(tx store.Tx) (err error) {
		v, err = tx.Put(context.Background(), store.Write{Resource: res, Org: org, IfMatch: ifMatch})
		return err
	})
	return v, err
}

func mustPut(t *testing.T, st store.Store, res *fhir.Value, org, ifMatch string) *store.Version {
	t.Helper()
	v, err := put(t, st, res, org, ifMatch)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return v
}

func read(st store.Store, typ, id string) (*store.Version, error) {
	var v *store.Version
	err := st.View(context.Background(), func(tx store.ReadTx) (err error) {
		v, err = tx.Read(context.Background(), typ, id)
		return err
	})
	return v, err
}

func mustRead(t *testing.T, st store.Store, typ, id string) *store.Version {
	t.Helper()
	v, err := read(st, typ, id)
	if err != nil {
		t.Fatalf("Read %s/%s: %v", typ, id, err)
	}
	return v
}

func vread(st store.Store, typ, id, vid string) (*store.Version, error) {
	var v *store.Version
	err := st.View(context.Background(), func(tx store.ReadTx) (err error) {
		v, err = tx.VRead(context.Background(), typ, id, vid)
		return err
	})
	return v, err
}

// wantKind checks that err is an *outcome.Error of kind k.
func wantKind(t *testing.T, what string, err error, k outcome.Kind) {
	t.Helper()
	var oe *outcome.Error
	switch {
	case err == nil:
		t.Errorf("%s: no error, want kind %v", what, k)
	case !errors.As(err, &oe):
		t.Errorf("%s: error %v (%T) is not an *outcome.Error, want kind %v", what, err, err, k)
	case oe.Kind != k:
		t.Errorf("%s: error %v has kind %v, want %v", what, err, oe.Kind, k)
	}
}

// body parses a stored body.
func body(t *testing.T, v *store.Version) fhir.Value {
	t.Helper()
	b, err := fhir.Parse(v.Body)
	if err != nil {
		t.Fatalf("%s/%s/_history/%s: stored body is not JSON: %v\n%s", v.Type, v.ID, v.VersionID, err, v.Body)
	}
	return b
}

func metaOf(t *testing.T, v *store.Version) (versionID, lastUpdated string) {
	t.Helper()
	b := body(t, v)
	m, ok := b.Get("meta")
	if !ok {
		t.Fatalf("stored body has no meta: %s", v.Body)
	}
	return m.Str("versionId"), m.Str("lastUpdated")
}

// checkVersion checks the envelope and the stamped body of v.
func checkVersion(t *testing.T, v *store.Version, typ, id, vid string, m store.Method) {
	t.Helper()
	if v.Type != typ || (id != "" && v.ID != id) || v.VersionID != vid || v.Method != m {
		t.Errorf("version = %s/%s/_history/%s (%v), want %s/%s/_history/%s (%v)", v.Type, v.ID, v.VersionID, v.Method, typ, id, vid, m)
	}
	if v.Seq <= 0 {
		t.Errorf("%s/%s: Seq = %d, want > 0", v.Type, v.ID, v.Seq)
	}
	if v.LastUpdated.IsZero() || v.LastUpdated.Location() != time.UTC {
		t.Errorf("%s/%s: LastUpdated = %v, want a UTC instant", v.Type, v.ID, v.LastUpdated)
	}
	if m == store.MethodDelete {
		if v.Body != nil {
			t.Errorf("%s/%s: a tombstone has a body: %s", v.Type, v.ID, v.Body)
		}
		return
	}
	b := body(t, v)
	if got := b.Str("id"); got != v.ID {
		t.Errorf("stored id = %q, want %q", got, v.ID)
	}
	gotVID, gotLU := metaOf(t, v)
	if gotVID != vid {
		t.Errorf("stored meta.versionId = %q, want %q", gotVID, vid)
	}
	if want := v.LastUpdated.Format(store.TimeFormat); gotLU != want {
		t.Errorf("stored meta.lastUpdated = %q, want %q", gotLU, want)
	}
}

func testCreateRead(t *testing.T, st store.Store) {
	res := resource(t, `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mg"}}`)
	before := string(res.Marshal())
	v := create(t, st, res, org)
	checkVersion(t, v, "Observation", "", "1", store.MethodPost)
	if got := string(res.Marshal()); got != before {
		t.Errorf("Create modified its input:\n got %s\nwant %s", got, before)
	}
	if !strings.Contains(string(v.Body), `"value":1.50`) {
		t.Errorf("stored body lost the decimal's precision: %s", v.Body)
	}
	got := mustRead(t, st, "Observation", v.ID)
	checkVersion(t, got, "Observation", v.ID, "1", store.MethodPost)
	if string(got.Body) != string(v.Body) {
		t.Errorf("Read body differs from the stored one:\n got %s\nwant %s", got.Body, v.Body)
	}
	if got.Seq != v.Seq || !got.LastUpdated.Equal(v.LastUpdated) || got.Org != org {
		t.Errorf("Read = seq %d, %v, org %q; Create said seq %d, %v, org %q", got.Seq, got.LastUpdated, got.Org, v.Seq, v.LastUpdated, org)
	}
	direct, err := st.Read(context.Background(), "Observation", v.ID)
	if err != nil || string(direct.Body) != string(v.Body) || direct.VersionID != "1" || direct.Seq != v.Seq {
		t.Errorf("Store.Read = %+v, %v; want the version Create returned", direct, err)
	}
	vr, err := vread(st, "Observation", v.ID, "1")
	if err != nil {
		t.Fatal(err)
	}
	if string(vr.Body) != string(v.Body) {
		t.Errorf("VRead body differs from the stored one:\n got %s\nwant %s", vr.Body, v.Body)
	}
}

func testCreateAssignsRandomIDs(t *testing.T, st store.Store) {
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		v := create(t, st, patient(t, "client-chosen", "Doe"), org)
		if v.ID == "client-chosen" {
			t.Fatalf("Create kept the client's id")
		}
		if !store.ValidID(v.ID) || len(v.ID) < 22 || strings.ToLower(v.ID) != v.ID {
			t.Errorf("id %q is not a lowercase FHIR id of at least 128 bits", v.ID)
		}
		if seen[v.ID] {
			t.Errorf("id %q assigned twice", v.ID)
		}
		seen[v.ID] = true
	}
}

func testPutCreatesThenUpdates(t *testing.T, st store.Store) {
	v1 := mustPut(t, st, patient(t, "p1", "One"), org, "")
	checkVersion(t, v1, "Patient", "p1", "1", store.MethodPut)
	v2 := mustPut(t, st, patient(t, "p1", "Two"), org, "")
	checkVersion(t, v2, "Patient", "p1", "2", store.MethodPut)
	if v2.Seq <= v1.Seq {
		t.Errorf("second version has seq %d, not after the first's %d", v2.Seq, v1.Seq)
	}
	cur := mustRead(t, st, "Patient", "p1")
	if cur.VersionID != "2" || !strings.Contains(string(cur.Body), `"Two"`) {
		t.Errorf("Read after update = version %s %s", cur.VersionID, cur.Body)
	}
	old, err := vread(st, "Patient", "p1", "1")
	if err != nil {
		t.Fatal(err)
	}
	if string(old.Body) != string(v1.Body) {
		t.Errorf("version 1 changed:\n got %s\nwant %s", old.Body, v1.Body)
	}
	for _, bad := range []string{"3", "0", "-1", "01", "x", ""} {
		_, err := vread(st, "Patient", "p1", bad)
		wantKind(t, "VRead version "+bad, err, outcome.NotFound)
	}
	_, err = put(t, st, resource(t, `{"resourceType":"Patient"}`), org, "")
	wantKind(t, "Put without an id", err, outcome.Invalid)
	_, err = put(t, st, resource(t, `{"resourceType":"Patient","id":"a b"}`), org, "")
	wantKind(t, "Put with an invalid id", err, outcome.Invalid)
}

func testStampsMeta(t *testing.T, st store.Store) {
	res := resource(t, `{"resourceType":"Patient","id":"m1","meta":{"lastUpdated":"2000-01-01T00:00:00Z","versionId":"77","profile":["http://example.org/p"]},"active":true}`)
	v := mustPut(t, st, res, org, "")
	checkVersion(t, v, "Patient", "m1", "1", store.MethodPut)
	b := body(t, v)
	var names []string
	for _, m := range b.Members {
		names = append(names, m.Name)
	}
	if want := []string{"resourceType", "id", "meta", "active"}; !slices.Equal(names, want) {
		t.Errorf("members = %v, want %v", names, want)
	}
	meta, _ := b.Get("meta")
	if p, ok := meta.Get("profile"); !ok || len(p.Items) != 1 {
		t.Errorf("meta.profile lost: %s", v.Body)
	}
	// Without meta or id, they are added after resourceType.
	v2 := create(t, st, resource(t, `{"resourceType":"Patient","active":false}`), org)
	b2 := body(t, v2)
	if len(b2.Members) != 4 || b2.Members[1].Name != "id" || b2.Members[2].Name != "meta" {
		t.Errorf("stamped body = %s, want resourceType, id, meta, active", v2.Body)
	}
}

func testUnknown(t *testing.T, st store.Store) {
	_, err := read(st, "Patient", "nope")
	wantKind(t, "Read unknown", err, outcome.NotFound)
	_, err = st.Read(context.Background(), "Patient", "nope")
	wantKind(t, "Store.Read unknown", err, outcome.NotFound)
	_, err = vread(st, "Patient", "nope", "1")
	wantKind(t, "VRead unknown", err, outcome.NotFound)
	v := create(t, st, patient(t, "", "X"), org)
	_, err = read(st, "Observation", v.ID)
	wantKind(t, "Read with another type", err, outcome.NotFound)
	err = st.View(context.Background(), func(tx store.ReadTx) error {
		_, err := tx.History(context.Background(), store.HistoryQuery{Type: "Patient", ID: "nope"})
		return err
	})
	wantKind(t, "History of unknown", err, outcome.NotFound)
	err = st.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.Delete(context.Background(), "Patient", "nope", "")
		return err
	})
	wantKind(t, "Delete unknown", err, outcome.NotFound)
}

func testDelete(t *testing.T, st store.Store) {
	mustPut(t, st, resource(t, `{"resourceType":"Patient","id":"d1","identifier":[{"system":"urn:s","value":"v"}]}`), org, "")
	var del *store.Version
	update(t, st, func(tx store.Tx) (err error) {
		del, err = tx.Delete(context.Background(), "Patient", "d1", "")
		return err
	})
	checkVersion(t, del, "Patient", "d1", "2", store.MethodDelete)
	if !del.Deleted() || del.Org != org {
		t.Errorf("tombstone: Deleted() = %v, Org = %q", del.Deleted(), del.Org)
	}
	_, err := read(st, "Patient", "d1")
	wantKind(t, "Read deleted", err, outcome.Gone)
	_, err = st.Read(context.Background(), "Patient", "d1")
	wantKind(t, "Store.Read deleted", err, outcome.Gone)
	_, err = vread(st, "Patient", "d1", "2")
	wantKind(t, "VRead tombstone", err, outcome.Gone)
	if _, err := vread(st, "Patient", "d1", "1"); err != nil {
		t.Errorf("VRead of the version before the delete: %v", err)
	}
	var refs []store.Ref
	view(t, st, func(tx store.ReadTx) (err error) {
		refs, err = tx.FindByIdentifier(context.Background(), "Patient", "urn:s", "v")
		return err
	})
	if len(refs) != 0 {
		t.Errorf("FindByIdentifier found the deleted resource: %v", refs)
	}
	// Deleting again writes nothing.
	var again *store.Version
	update(t, st, func(tx store.Tx) (err error) {
		again, err = tx.Delete(context.Background(), "Patient", "d1", "")
		return err
	})
	if again.VersionID != "2" || !again.Deleted() {
		t.Errorf("second delete = version %s (%v), want the existing tombstone 2", again.VersionID, again.Method)
	}
	// An update revives it with the next version.
	v3 := mustPut(t, st, patient(t, "d1", "Back"), org, "")
	checkVersion(t, v3, "Patient", "d1", "3", store.MethodPut)
	if got := mustRead(t, st, "Patient", "d1"); got.VersionID != "3" {
		t.Errorf("Read after revival = version %s, want 3", got.VersionID)
	}
}

func testIfMatch(t *testing.T, st store.Store) {
	mustPut(t, st, patient(t, "m", "A"), org, "")
	if _, err := put(t, st, patient(t, "m", "B"), org, "1"); err != nil {
		t.Fatalf("Put If-Match current version: %v", err)
	}
	_, err := put(t, st, patient(t, "m", "C"), org, "1")
	wantKind(t, "Put If-Match stale version", err, outcome.Precondition)
	_, err = put(t, st, patient(t, "absent", "C"), org, "1")
	wantKind(t, "Put If-Match on a resource that does not exist", err, outcome.Precondition)
	err = st.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.Delete(context.Background(), "Patient", "m", "1")
		return err
	})
	wantKind(t, "Delete If-Match stale version", err, outcome.Precondition)
	if got := mustRead(t, st, "Patient", "m"); got.VersionID != "2" {
		t.Errorf("after failed preconditions the resource is at version %s, want 2", got.VersionID)
	}
	update(t, st, func(tx store.Tx) error {
		_, err := tx.Delete(context.Background(), "Patient", "m", "2")
		return err
	})
}

// testConcurrentIfMatch runs read-modify-write cycles with If-Match from
// several goroutines: every increment must land exactly once (no lost
// update), losers see Precondition and retry.
func testConcurrentIfMatch(t *testing.T, st store.Store) {
	mustPut(t, st, resource(t, `{"resourceType":"Basic","id":"counter","code":{"text":"0"}}`), org, "")
	const workers, each = 6, 5
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		errs      []error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				cur, err := read(st, "Basic", "counter")
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				v, _ := fhir.Parse(cur.Body)
				code, _ := v.Get("code")
				var n int
				fmt.Sscan(code.Str("text"), &n)
				next := resource(t, `{"resourceType":"Basic","id":"counter","code":{"text":"%d"}}`, n+1)
				_, err = put(t, st, next, org, cur.VersionID)
				var oe *outcome.Error
				switch {
				case err == nil:
					done++
				case errors.As(err, &oe) && oe.Kind == outcome.Precondition:
					mu.Lock()
					conflicts++
					mu.Unlock()
				default:
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		t.Errorf("concurrent If-Match writer: %v", err)
	}
	cur := mustRead(t, st, "Basic", "counter")
	if want := fmt.Sprint(1 + workers*each); cur.VersionID != want {
		t.Errorf("after %d increments the version is %s, want %s", workers*each, cur.VersionID, want)
	}
	if !strings.Contains(string(cur.Body), fmt.Sprintf(`"text":"%d"`, workers*each)) {
		t.Errorf("lost update: final body %s, want counter %d", cur.Body, workers*each)
	}
	t.Logf("%d If-Match conflicts retried", conflicts)
}

func testConcurrentWriters(t *testing.T, st store.Store) {
	const workers, each = 8, 10
	var wg sync.WaitGroup
	results := make(chan *store.Version, workers*each)
	errc := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var v *store.Version
				err := st.Update(context.Background(), func(tx store.Tx) (err error) {
					v, err = tx.Create(context.Background(), store.Write{Resource: patient(t, "", "W"), Org: org})
					return err
				})
				if err != nil {
					errc <- err
					return
				}
				results <- v
			}
		}()
	}
	wg.Wait()
	close(results)
	close(errc)
	for err := range errc {
		t.Errorf("concurrent writer: %v", err)
	}
	seqs := map[int64]bool{}
	for v := range results {
		if seqs[v.Seq] {
			t.Errorf("two transactions got seq %d", v.Seq)
		}
		seqs[v.Seq] = true
	}
	if len(seqs) != workers*each {
		t.Errorf("%d writes succeeded, want %d", len(seqs), workers*each)
	}
}

// testConcurrentFailures mixes committing, failing and panicking Updates
// from many goroutines (a backend may run concurrent callbacks in one
// database transaction): exactly the successful ones are stored.
func testConcurrentFailures(t *testing.T, st store.Store) {
	ctx := context.Background()
	const workers, each = 6, 12
	boom := errors.New("boom")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var kept, dropped []string
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var id string
				mode := (w + i) % 3 // 0 commits, 1 fails, 2 panics
				func() {
					defer func() {
						if p := recover(); p != nil && mode != 2 {
							t.Errorf("unexpected panic: %v", p)
						}
					}()
					err := st.Update(ctx, func(tx store.Tx) error {
						v, err := tx.Create(ctx, store.Write{Resource: patient(t, "", fmt.Sprint(w, "-", i)), Org: org})
						if err != nil {
							return err
						}
						id = v.ID
						switch mode {
						case 1:
							return boom
						case 2:
							panic("callback panics")
						}
						return nil
					})
					if mode == 0 && err != nil {
						t.Errorf("Update: %v", err)
					}
					if mode == 1 && !errors.Is(err, boom) {
						t.Errorf("failing Update returned %v", err)
					}
				}()
				mu.Lock()
				if mode == 0 {
					kept = append(kept, id)
				} else if id != "" {
					dropped = append(dropped, id)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, id := range kept {
		if _, err := read(st, "Patient", id); err != nil {
			t.Errorf("committed Patient/%s: %v", id, err)
		}
	}
	for _, id := range dropped {
		_, err := read(st, "Patient", id)
		wantKind(t, "Read of a failed Update's write", err, outcome.NotFound)
	}
	if h := allHistory(t, st, store.HistoryQuery{Count: store.MaxHistoryCount}); len(h) != len(kept) {
		t.Errorf("history has %d versions, want the %d committed", len(h), len(kept))
	}
}

// allHistory pages through a history query and checks the order.
func allHistory(t *testing.T, st store.Store, q store.HistoryQuery) []*store.Version {
	t.Helper()
	var out []*store.Version
	view(t, st, func(tx store.ReadTx) error {
		for pages := 0; ; pages++ {
			if pages > 1000 {
				t.Fatal("history paging does not end")
			}
			p, err := tx.History(context.Background(), q)
			if err != nil {
				return err
			}
			if q.Count > 0 && len(p.Versions) > q.Count {
				t.Errorf("page of %d versions, asked for %d", len(p.Versions), q.Count)
			}
			out = append(out, p.Versions...)
			if p.Next == "" {
				return nil
			}
			if len(p.Versions) == 0 {
				t.Fatal("empty page with a next cursor")
			}
			q.Cursor = p.Next
		}
	})
	for i := 1; i < len(out); i++ {
		a, b := out[i-1], out[i]
		if a.Seq < b.Seq {
			t.Errorf("history not newest first: seq %d before %d", a.Seq, b.Seq)
		}
		if a.LastUpdated.Before(b.LastUpdated) {
			t.Errorf("lastUpdated not monotonic with seq: %v (seq %d) before %v (seq %d)", a.LastUpdated, a.Seq, b.LastUpdated, b.Seq)
		}
	}
	return out
}

func keys(vs []*store.Version) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Type+"/"+v.ID+"/"+v.VersionID)
	}
	return out
}

func testHistory(t *testing.T, st store.Store) {
	mustPut(t, st, patient(t, "h1", "A"), org, "")
	mustPut(t, st, resource(t, `{"resourceType":"Basic","id":"b1","code":{"text":"x"}}`), org, "")
	mustPut(t, st, patient(t, "h1", "B"), org, "")
	mustPut(t, st, patient(t, "h2", "C"), org, "")
	update(t, st, func(tx store.Tx) error {
		_, err := tx.Delete(context.Background(), "Patient", "h1", "")
		return err
	})
	for _, tc := range []struct {
		q    store.HistoryQuery
		want []string
	}{
		{store.HistoryQuery{Type: "Patient", ID: "h1"}, []string{"Patient/h1/3", "Patient/h1/2", "Patient/h1/1"}},
		{store.HistoryQuery{Type: "Patient", ID: "h1", Count: 1}, []string{"Patient/h1/3", "Patient/h1/2", "Patient/h1/1"}},
		{store.HistoryQuery{Type: "Patient"}, []string{"Patient/h1/3", "Patient/h2/1", "Patient/h1/2", "Patient/h1/1"}},
		{store.HistoryQuery{Type: "Patient", Count: 3}, []string{"Patient/h1/3", "Patient/h2/1", "Patient/h1/2", "Patient/h1/1"}},
		{store.HistoryQuery{}, []string{"Patient/h1/3", "Patient/h2/1", "Patient/h1/2", "Basic/b1/1", "Patient/h1/1"}},
		{store.HistoryQuery{Count: 2}, []string{"Patient/h1/3", "Patient/h2/1", "Patient/h1/2", "Basic/b1/1", "Patient/h1/1"}},
		{store.HistoryQuery{Type: "Observation"}, nil},
	} {
		got := allHistory(t, st, tc.q)
		if !slices.Equal(keys(got), tc.want) {
			t.Errorf("History(%+v) = %v, want %v", tc.q, keys(got), tc.want)
		}
	}
	h := allHistory(t, st, store.HistoryQuery{Type: "Patient", ID: "h1"})
	if len(h) == 3 && (h[0].Method != store.MethodDelete || h[0].Body != nil || h[1].Method != store.MethodPut || h[2].Method != store.MethodPut) {
		t.Errorf("history methods = %v %v %v, want DELETE PUT PUT", h[0].Method, h[1].Method, h[2].Method)
	}
	if b := allHistory(t, st, store.HistoryQuery{Type: "Basic"}); len(b) != 1 || b[0].Method != store.MethodPut {
		t.Errorf("Basic history = %v", keys(b))
	}
	// History serves the stored bytes.
	if len(h) == 3 {
		v1, err := vread(st, "Patient", "h1", "1")
		if err != nil {
			t.Fatal(err)
		}
		if string(h[2].Body) != string(v1.Body) {
			t.Errorf("history body differs from vread:\n%s\n%s", h[2].Body, v1.Body)
		}
	}
	err := st.View(context.Background(), func(tx store.ReadTx) error {
		_, err := tx.History(context.Background(), store.HistoryQuery{Cursor: "garbage"})
		return err
	})
	wantKind(t, "History with a bad cursor", err, outcome.Invalid)
}

func testHistoryPagingStable(t *testing.T, st store.Store) {
	for i := 0; i < 5; i++ {
		create(t, st, patient(t, "", fmt.Sprint(i)), org)
	}
	var first *store.HistoryPage
	view(t, st, func(tx store.ReadTx) (err error) {
		first, err = tx.History(context.Background(), store.HistoryQuery{Count: 2})
		return err
	})
	// Writes between pages must not shift the following pages.
	for i := 0; i < 3; i++ {
		create(t, st, patient(t, "", "later"), org)
	}
	rest := allHistory(t, st, store.HistoryQuery{Count: 2, Cursor: first.Next})
	all := append(append([]*store.Version{}, first.Versions...), rest...)
	if len(all) != 5 {
		t.Fatalf("paging saw %d versions (%v), want the 5 that existed when it started", len(all), keys(all))
	}
	seen := map[string]bool{}
	for _, v := range all {
		if seen[v.ID] || strings.Contains(string(v.Body), "later") {
			t.Errorf("page shifted: %v", keys(all))
		}
		seen[v.ID] = true
	}
}

func testHistorySince(t *testing.T, st store.Store) {
	var vs []*store.Version
	for i := 0; i < 4; i++ {
		vs = append(vs, create(t, st, patient(t, "", fmt.Sprint(i)), org))
		time.Sleep(2 * time.Millisecond)
	}
	all := allHistory(t, st, store.HistoryQuery{})
	for _, since := range []time.Time{vs[0].LastUpdated, vs[2].LastUpdated, vs[3].LastUpdated.Add(time.Microsecond), vs[0].LastUpdated.Add(-time.Hour)} {
		var want []string
		for _, v := range all {
			if !v.LastUpdated.Before(since) {
				want = append(want, keys([]*store.Version{v})...)
			}
		}
		got := keys(allHistory(t, st, store.HistoryQuery{Since: since, Count: 1}))
		if !slices.Equal(got, want) {
			t.Errorf("History(_since=%v) = %v, want %v", since, got, want)
		}
	}
	if got := allHistory(t, st, store.HistoryQuery{Type: "Patient", Since: vs[2].LastUpdated}); len(got) != 2 {
		t.Errorf("type history _since = %v, want the last 2", keys(got))
	}
}

func testHistoryAt(t *testing.T, st store.Store) {
	pause := func() { time.Sleep(3 * time.Millisecond) }
	a1 := mustPut(t, st, patient(t, "a", "1"), org, "")
	pause()
	b1 := mustPut(t, st, patient(t, "b", "1"), org, "")
	pause()
	a2 := mustPut(t, st, patient(t, "a", "2"), org, "")
	pause()
	var bDel *store.Version
	update(t, st, func(tx store.Tx) (err error) {
		bDel, err = tx.Delete(context.Background(), "Patient", "b", "")
		return err
	})
	pause()
	a3 := mustPut(t, st, patient(t, "a", "3"), org, "")
	at := func(from, to time.Time) []string {
		return keys(allHistory(t, st, store.HistoryQuery{Type: "Patient", AtFrom: from, AtTo: to, Count: 2}))
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"before anything", a1.LastUpdated.Add(-time.Hour), time.Time{}, nil},
		{"at the first write", a1.LastUpdated, time.Time{}, []string{"Patient/a/1"}},
		{"after b1", b1.LastUpdated, time.Time{}, []string{"Patient/b/1", "Patient/a/1"}},
		{"after a2", a2.LastUpdated, time.Time{}, []string{"Patient/a/2", "Patient/b/1"}},
		{"after the delete", bDel.LastUpdated, time.Time{}, []string{"Patient/b/2", "Patient/a/2"}},
		{"now", a3.LastUpdated.Add(time.Hour), time.Time{}, []string{"Patient/a/3", "Patient/b/2"}},
		{"a period", b1.LastUpdated, bDel.LastUpdated, []string{"Patient/a/2", "Patient/b/1", "Patient/a/1"}},
	} {
		if got := at(tc.from, tc.to); !slices.Equal(got, tc.want) {
			t.Errorf("_at %s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := keys(allHistory(t, st, store.HistoryQuery{Type: "Patient", ID: "a", AtFrom: b1.LastUpdated})); !slices.Equal(got, []string{"Patient/a/1"}) {
		t.Errorf("instance _at = %v", got)
	}
}

func testSnapshotStable(t *testing.T, st store.Store) {
	mustPut(t, st, patient(t, "s", "Before"), org, "")
	ctx := context.Background()
	view(t, st, func(tx store.ReadTx) error {
		v, err := tx.Read(ctx, "Patient", "s")
		if err != nil {
			return err
		}
		if v.VersionID != "1" {
			t.Errorf("first read in the snapshot = version %s", v.VersionID)
		}
		// Another transaction commits while this one is open.
		mustPut(t, st, patient(t, "s", "After"), org, "")
		create(t, st, patient(t, "", "New"), org)
		v, err = tx.Read(ctx, "Patient", "s")
		if err != nil {
			return err
		}
		if v.VersionID != "1" || !strings.Contains(string(v.Body), "Before") {
			t.Errorf("second read in the snapshot = version %s %s, want version 1", v.VersionID, v.Body)
		}
		p, err := tx.History(ctx, store.HistoryQuery{})
		if err != nil {
			return err
		}
		if len(p.Versions) != 1 {
			t.Errorf("history in the snapshot = %v, want only the first version", keys(p.Versions))
		}
		return nil
	})
	if v := mustRead(t, st, "Patient", "s"); v.VersionID != "2" {
		t.Errorf("after the snapshot: version %s, want 2", v.VersionID)
	}
}

func testTenancy(t *testing.T, st store.Store) {
	v := create(t, st, patient(t, "", "T"), "org-a")
	if v.Org != "org-a" || mustRead(t, st, "Patient", v.ID).Org != "org-a" {
		t.Errorf("owning organization not recorded: %q", v.Org)
	}
	res := body(t, v)
	v2 := mustPut(t, st, &res, "org-b", "")
	if v2.Org != "org-b" {
		t.Errorf("update by another owner recorded %q", v2.Org)
	}
	var del *store.Version
	update(t, st, func(tx store.Tx) (err error) {
		del, err = tx.Delete(context.Background(), "Patient", v.ID, "")
		return err
	})
	if del.Org != "org-b" {
		t.Errorf("tombstone org = %q, want the owner's org-b", del.Org)
	}
	h := allHistory(t, st, store.HistoryQuery{Type: "Patient", ID: v.ID})
	var orgs []string
	for _, v := range h {
		orgs = append(orgs, v.Org)
	}
	if want := []string{"org-b", "org-b", "org-a"}; !slices.Equal(orgs, want) {
		t.Errorf("history orgs = %v, want %v", orgs, want)
	}

	dir := create(t, st, resource(t, `{"resourceType":"Organization","name":"Clinic"}`), "")
	if dir.Org != "" {
		t.Errorf("directory resource has org %q", dir.Org)
	}
	for _, typ := range []string{"Organization", "Practitioner", "PractitionerRole", "Location", "HealthcareService", "Endpoint", "Medication", "ValueSet", "CodeSystem", "StructureDefinition"} {
		if !store.DirectoryType(typ) {
			t.Errorf("%s is not a directory type", typ)
		}
	}
	for _, typ := range []string{"Patient", "Observation", "Encounter", "Basic"} {
		if store.DirectoryType(typ) {
			t.Errorf("%s is a directory type", typ)
		}
	}
	err := st.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.Create(context.Background(), store.Write{Resource: resource(t, `{"resourceType":"Organization"}`), Org: "org-a"})
		return err
	})
	wantKind(t, "directory type with an owner", err, outcome.Invalid)
	err = st.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.Create(context.Background(), store.Write{Resource: patient(t, "", "X")})
		return err
	})
	wantKind(t, "patient data without an owner", err, outcome.Invalid)
}

func testFindByIdentifier(t *testing.T, st store.Store) {
	ctx := context.Background()
	mustPut(t, st, resource(t, `{"resourceType":"Patient","id":"i1","identifier":[{"system":"urn:a","value":"1"},{"system":"urn:b","value":"1"}]}`), org, "")
	mustPut(t, st, resource(t, `{"resourceType":"Patient","id":"i2","identifier":[{"system":"urn:b","value":"1"}]}`), org, "")
	// Some types have identifier 0..1, an object.
	mustPut(t, st, resource(t, `{"resourceType":"Bundle","id":"bu","type":"collection","identifier":{"system":"urn:a","value":"1"}}`), org, "")
	find := func(typ, system, value string) []string {
		var refs []store.Ref
		view(t, st, func(tx store.ReadTx) (err error) {
			refs, err = tx.FindByIdentifier(ctx, typ, system, value)
			return err
		})
		var ids []string
		for _, r := range refs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	for _, tc := range []struct {
		typ, system, value string
		want               []string
	}{
		{"Patient", "urn:a", "1", []string{"i1"}},
		{"Patient", "urn:b", "1", []string{"i1", "i2"}},
		{"Patient", "", "1", []string{"i1", "i2"}},
		{"Patient", "urn:a", "2", nil},
		{"Observation", "urn:a", "1", nil},
		{"Bundle", "urn:a", "1", []string{"bu"}},
	} {
		if got := find(tc.typ, tc.system, tc.value); !slices.Equal(got, tc.want) {
			t.Errorf("FindByIdentifier(%s, %q, %q) = %v, want %v", tc.typ, tc.system, tc.value, got, tc.want)
		}
	}
	// Identifiers follow the current version.
	mustPut(t, st, resource(t, `{"resourceType":"Patient","id":"i1","identifier":[{"system":"urn:a","value":"9"}]}`), org, "")
	if got := find("Patient", "urn:a", "1"); got != nil {
		t.Errorf("old identifier still found: %v", got)
	}
	if got := find("Patient", "urn:a", "9"); !slices.Equal(got, []string{"i1"}) {
		t.Errorf("new identifier found %v", got)
	}
}

// testConcurrentConditionalCreate: N identical conditional creates (FHIR
// If-None-Exist by identifier) racing must yield exactly one resource.
func testConcurrentConditionalCreate(t *testing.T, st store.Store) {
	const n = 8
	ctx := context.Background()
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = st.Update(ctx, func(tx store.Tx) error {
				refs, err := tx.FindByIdentifier(ctx, "Patient", "urn:mrn", "42")
				if err != nil {
					return err
				}
				switch len(refs) {
				case 0:
					v, err := tx.Create(ctx, store.Write{Resource: resource(t, `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"42"}]}`), Org: org})
					if err != nil {
						return err
					}
					ids[i] = v.ID
				case 1:
					ids[i] = refs[0].ID
				default:
					return fmt.Errorf("%d matches", len(refs))
				}
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("conditional create %d: %v", i, err)
		}
	}
	for i := 1; i < n; i++ {
		if ids[i] != ids[0] {
			t.Errorf("conditional creates yielded different resources: %v", ids)
			break
		}
	}
	if h := allHistory(t, st, store.HistoryQuery{Type: "Patient"}); len(h) != 1 {
		t.Errorf("%d Patients stored, want 1: %v", len(h), keys(h))
	}
}

func testAtomicity(t *testing.T, st store.Store) {
	ctx := context.Background()
	mustPut(t, st, patient(t, "keep", "Original"), org, "")
	boom := errors.New("boom")
	var created string
	err := st.Update(ctx, func(tx store.Tx) error {
		v, err := tx.Create(ctx, store.Write{Resource: patient(t, "", "Ghost"), Org: org})
		if err != nil {
			return err
		}
		created = v.ID
		if _, err := tx.Put(ctx, store.Write{Resource: patient(t, "keep", "Changed"), Org: org}); err != nil {
			return err
		}
		if _, err := tx.EnqueueJob(ctx, store.JobSpec{Kind: "ghost"}); err != nil {
			return err
		}
		// Reads inside the transaction see its own writes.
		if v, err := tx.Read(ctx, "Patient", created); err != nil || v.VersionID != "1" {
			t.Errorf("read of own write inside the transaction: %v, %v", v, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Update returned %v, want the callback's error", err)
	}
	_, err = read(st, "Patient", created)
	wantKind(t, "Read of a rolled-back create", err, outcome.NotFound)
	if v := mustRead(t, st, "Patient", "keep"); v.VersionID != "1" || !strings.Contains(string(v.Body), "Original") {
		t.Errorf("rolled-back update is visible: version %s %s", v.VersionID, v.Body)
	}
	if h := allHistory(t, st, store.HistoryQuery{}); len(h) != 1 {
		t.Errorf("history after rollback = %v", keys(h))
	}
	var job *store.Job
	update(t, st, func(tx store.Tx) (err error) {
		job, err = tx.LeaseJob(ctx, "w", nil, time.Minute)
		return err
	})
	if job != nil {
		t.Errorf("rolled-back job is in the queue: %+v", job)
	}

	// A panic rolls back too, and propagates.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic in the callback did not propagate")
			}
		}()
		_ = st.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Put(ctx, store.Write{Resource: patient(t, "keep", "Panic"), Org: org}); err != nil {
				return err
			}
			panic("callback panics")
		})
	}()
	if v := mustRead(t, st, "Patient", "keep"); v.VersionID != "1" {
		t.Errorf("write before a panic is visible: version %s", v.VersionID)
	}
	// The store still works after both.
	mustPut(t, st, patient(t, "keep", "Later"), org, "1")
}

func lease(t *testing.T, st store.Store, owner string, kinds []string, d time.Duration) *store.Job {
	t.Helper()
	var j *store.Job
	update(t, st, func(tx store.Tx) (err error) {
		j, err = tx.LeaseJob(context.Background(), owner, kinds, d)
		return err
	})
	return j
}

func job(t *testing.T, st store.Store, id string) *store.Job {
	t.Helper()
	var j *store.Job
	view(t, st, func(tx store.ReadTx) (err error) {
		j, err = tx.Job(context.Background(), id)
		return err
	})
	return j
}

func testJobs(t *testing.T, st store.Store) {
	ctx := context.Background()
	var a, b *store.Job
	update(t, st, func(tx store.Tx) (err error) {
		if a, err = tx.EnqueueJob(ctx, store.JobSpec{Kind: "export", Org: org, Payload: []byte(`{"n":1}`)}); err != nil {
			return err
		}
		b, err = tx.EnqueueJob(ctx, store.JobSpec{Kind: "reindex", RunAfter: time.Now().Add(time.Hour)})
		return err
	})
	if got := job(t, st, a.ID); got.State != store.JobQueued || got.Kind != "export" || string(got.Payload) != `{"n":1}` || got.Org != org || got.MaxAttempts != store.DefaultMaxAttempts {
		t.Errorf("enqueued job reads back as %+v", got)
	}
	if j := lease(t, st, "w1", []string{"reindex"}, time.Minute); j != nil {
		t.Errorf("leased %s before it was due", j.ID)
	}
	j := lease(t, st, "w1", nil, time.Minute)
	if j == nil || j.ID != a.ID || j.State != store.JobRunning || j.Attempts != 1 || j.LeaseOwner != "w1" {
		t.Fatalf("lease = %+v, want job %s running for w1, attempt 1", j, a.ID)
	}
	if j := lease(t, st, "w2", nil, time.Minute); j != nil {
		t.Errorf("w2 leased %s while w1 holds it (or before it was due)", j.ID)
	}
	update(t, st, func(tx store.Tx) error {
		return tx.HeartbeatJob(ctx, a.ID, "w1", time.Minute, store.Progress{Done: 3, Total: 10, Note: "patients"})
	})
	if got := job(t, st, a.ID); got.Progress != (store.Progress{Done: 3, Total: 10, Note: "patients"}) || got.State != store.JobRunning {
		t.Errorf("progress not visible: %+v", got)
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		return tx.HeartbeatJob(ctx, a.ID, "w2", time.Minute, store.Progress{})
	})
	wantKind(t, "heartbeat by a worker without the lease", err, outcome.Conflict)
	update(t, st, func(tx store.Tx) error { return tx.CompleteJob(ctx, a.ID, "w1", []byte("done")) })
	if got := job(t, st, a.ID); got.State != store.JobSucceeded || string(got.Result) != "done" || got.LeaseOwner != "" {
		t.Errorf("completed job = %+v", got)
	}
	err = st.Update(ctx, func(tx store.Tx) error { return tx.CompleteJob(ctx, a.ID, "w1", nil) })
	wantKind(t, "completing twice", err, outcome.Conflict)
	if j := lease(t, st, "w1", nil, time.Minute); j != nil {
		t.Errorf("leased %s; nothing is runnable", j.ID)
	}
	if got := job(t, st, b.ID); got.State != store.JobQueued {
		t.Errorf("delayed job = %+v", got)
	}
	missing := st.View(ctx, func(tx store.ReadTx) error { _, err := tx.Job(ctx, "nope"); return err })
	wantKind(t, "unknown job", missing, outcome.NotFound)
}

func testJobLeaseExpiry(t *testing.T, st store.Store) {
	ctx := context.Background()
	var a *store.Job
	update(t, st, func(tx store.Tx) (err error) {
		a, err = tx.EnqueueJob(ctx, store.JobSpec{Kind: "k", MaxAttempts: 2})
		return err
	})
	if j := lease(t, st, "dead", nil, 10*time.Millisecond); j == nil {
		t.Fatal("no lease")
	}
	time.Sleep(30 * time.Millisecond)
	// The dead worker's lease expired: another takes the job over.
	j := lease(t, st, "alive", nil, time.Minute)
	if j == nil || j.ID != a.ID || j.Attempts != 2 || j.LeaseOwner != "alive" {
		t.Fatalf("lease after expiry = %+v, want attempt 2 for alive", j)
	}
	err := st.Update(ctx, func(tx store.Tx) error { return tx.HeartbeatJob(ctx, a.ID, "dead", time.Minute, store.Progress{}) })
	wantKind(t, "heartbeat after losing the lease", err, outcome.Conflict)
	// Expired again on the last attempt: failed for good.
	update(t, st, func(tx store.Tx) error {
		return tx.HeartbeatJob(ctx, a.ID, "alive", time.Millisecond, store.Progress{})
	})
	time.Sleep(20 * time.Millisecond)
	if j := lease(t, st, "third", nil, time.Minute); j != nil {
		t.Errorf("leased a job that used all its attempts: %+v", j)
	}
	if got := job(t, st, a.ID); got.State != store.JobFailed || got.LastError == "" {
		t.Errorf("job out of attempts = %+v, want failed with a reason", got)
	}
}

func testJobRetries(t *testing.T, st store.Store) {
	ctx := context.Background()
	var a, b *store.Job
	update(t, st, func(tx store.Tx) (err error) {
		if a, err = tx.EnqueueJob(ctx, store.JobSpec{Kind: "k", MaxAttempts: 2}); err != nil {
			return err
		}
		b, err = tx.EnqueueJob(ctx, store.JobSpec{Kind: "k"})
		return err
	})
	j := lease(t, st, "w", nil, time.Minute)
	if j == nil || j.ID != a.ID {
		t.Fatalf("lease = %+v, want the oldest job", j)
	}
	update(t, st, func(tx store.Tx) error { return tx.FailJob(ctx, a.ID, "w", "flaky", time.Hour) })
	if got := job(t, st, a.ID); got.State != store.JobQueued || got.LastError != "flaky" || got.RunAfter.Before(time.Now().Add(50*time.Minute)) {
		t.Errorf("failed job = %+v, want queued again after the backoff", got)
	}
	// While a backs off, b runs.
	if j := lease(t, st, "w", nil, time.Minute); j == nil || j.ID != b.ID {
		t.Fatalf("lease during backoff = %+v, want %s", j, b.ID)
	}
	update(t, st, func(tx store.Tx) error { return tx.FailJob(ctx, b.ID, "w", "fatal", -1) })
	if got := job(t, st, b.ID); got.State != store.JobFailed {
		t.Errorf("job failed without retry = %+v", got)
	}
	// a, retried with no backoff, fails on its last attempt: failed for good.
	update(t, st, func(tx store.Tx) error {
		_, err := tx.EnqueueJob(ctx, store.JobSpec{Kind: "other"})
		return err
	})
	c := lease(t, st, "w", []string{"k"}, time.Minute)
	if c != nil {
		t.Fatalf("leased %+v; a is backing off and b failed", c)
	}
	var d *store.Job
	update(t, st, func(tx store.Tx) (err error) {
		d, err = tx.EnqueueJob(ctx, store.JobSpec{Kind: "k2", MaxAttempts: 2})
		return err
	})
	for attempt := 1; attempt <= 2; attempt++ {
		j := lease(t, st, "w", []string{"k2"}, time.Minute)
		if j == nil || j.ID != d.ID || j.Attempts != attempt {
			t.Fatalf("attempt %d: lease = %+v", attempt, j)
		}
		update(t, st, func(tx store.Tx) error { return tx.FailJob(ctx, d.ID, "w", fmt.Sprint("try ", attempt), 0) })
	}
	if got := job(t, st, d.ID); got.State != store.JobFailed || got.Attempts != 2 || got.LastError != "try 2" {
		t.Errorf("job after its last attempt = %+v, want failed", got)
	}
}
