package audit

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// chain builds n entries of distinct records.
func chain(n int) []Entry {
	var c Chain
	out := make([]Entry, n)
	for i := range out {
		r := readRecord()
		r.ID = fmt.Sprintf("ae-%d", i+1)
		out[i] = c.Append(r.JSON())
	}
	return out
}

func clone(es []Entry) []Entry {
	out := slices.Clone(es)
	for i := range out {
		out[i].Record = slices.Clone(out[i].Record)
	}
	return out
}

func TestVerifyIntact(t *testing.T) {
	for _, n := range []int{0, 1, 2, 10} {
		if i, err := Verify(chain(n)); i != -1 || err != nil {
			t.Errorf("chain of %d: Verify = %d, %v", n, i, err)
		}
	}
}

func TestChainResume(t *testing.T) {
	es := chain(5)
	c := Resume(es[2])
	e := c.Append(es[3].Record)
	if e.Seq != 4 || e.Digest != es[3].Digest || e.Link != es[3].Link {
		t.Errorf("resumed chain appends %+v, want %+v", e, es[3])
	}
	if seq, link := c.Head(); seq != 4 || link != es[3].Link {
		t.Errorf("Head = %d %x", seq, link)
	}
}

// TestVerifyDetectsTampering edits one entry in every way a database user
// could and checks that Verify names that entry as the first broken one.
func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func([]Entry) []Entry
		broken int
		reason string
	}{
		{"edit a record byte", func(es []Entry) []Entry { es[3].Record[40] ^= 1; return es }, 3, "edited"},
		{"rewrite a record and its digest", func(es []Entry) []Entry {
			es[3].Record = []byte(`{"resourceType":"AuditEvent"}`)
			es[3].Digest = Digest(es[3].Record)
			return es
		}, 3, "link"},
		{"edit a digest of a purged record", func(es []Entry) []Entry { es[3].Record = nil; es[3].Digest[0] ^= 1; return es }, 3, "link"},
		{"edit a link", func(es []Entry) []Entry { es[5].Link[31] ^= 1; return es }, 5, "link"},
		{"swap two records", func(es []Entry) []Entry { es[2], es[3] = es[3], es[2]; return es }, 2, "position"},
		{"swap records but renumber", func(es []Entry) []Entry {
			es[2], es[3] = es[3], es[2]
			es[2].Seq, es[3].Seq = 3, 4
			return es
		}, 2, "link"},
		{"remove a record", func(es []Entry) []Entry { return slices.Delete(es, 4, 5) }, 4, "position"},
		{"remove and renumber", func(es []Entry) []Entry {
			es = slices.Delete(es, 4, 5)
			for i := range es {
				es[i].Seq = int64(i) + 1
			}
			return es
		}, 4, "link"},
		{"insert a record", func(es []Entry) []Entry {
			return slices.Insert(es, 6, Entry{Seq: 7, Record: []byte("{}"), Digest: Digest([]byte("{}"))})
		}, 6, "link"},
		{"edit the first record", func(es []Entry) []Entry { es[0].Record[10] ^= 1; return es }, 0, "edited"},
		{"edit the last record", func(es []Entry) []Entry { es[9].Record[10] ^= 1; return es }, 9, "edited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := tt.tamper(clone(chain(10)))
			i, err := Verify(es)
			if i != tt.broken {
				t.Fatalf("Verify = %d, %v; want first broken %d", i, err, tt.broken)
			}
			var be *BrokenError
			if !errors.As(err, &be) || be.Seq != int64(tt.broken)+1 || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %v does not name record %d (%s)", err, tt.broken+1, tt.reason)
			}
		})
	}
}

// TestPurgeKeepsChain drops the bytes of old records, as a retention
// policy would, and checks the chain still verifies.
func TestPurgeKeepsChain(t *testing.T) {
	es := chain(10)
	for i := range 6 {
		es[i].Record = nil
	}
	if i, err := Verify(es); i != -1 || err != nil {
		t.Errorf("purged chain: Verify = %d, %v", i, err)
	}
}

func TestCheckpoints(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, otherPriv, _ := ed25519.GenerateKey(nil)
	keys := map[string]ed25519.PublicKey{"k1": pub, "k2": otherPub}
	es := chain(10)
	cps := []Checkpoint{Sign(priv, "k1", 4, es[3].Link), Sign(otherPriv, "k2", 8, es[7].Link)}

	// rewrite changes record idx and recomputes every digest and link
	// after it, as someone with database access could.
	rewrite := func(es []Entry, idx int) []Entry {
		es[idx].Record = []byte(`{"resourceType":"AuditEvent","id":"forged"}`)
		c := Chain{}
		if idx > 0 {
			c = Resume(es[idx-1])
		}
		for i := idx; i < len(es); i++ {
			es[i] = c.Append(es[i].Record)
		}
		return es
	}
	tests := []struct {
		name   string
		es     func() []Entry
		cps    func() []Checkpoint
		broken int
		reason string
	}{
		{"intact", func() []Entry { return es }, func() []Checkpoint { return cps }, -1, ""},
		{"rewritten after the first checkpoint", func() []Entry { return rewrite(clone(es), 5) },
			func() []Checkpoint { return cps }, 4, "rewritten after 4"},
		{"rewritten before every checkpoint", func() []Entry { return rewrite(clone(es), 1) },
			func() []Checkpoint { return cps }, 0, "rewritten after 0"},
		{"a rewrite after the last checkpoint is not detectable: checkpoint often", func() []Entry { return rewrite(clone(es), 9) },
			func() []Checkpoint { return cps }, -1, ""},
		{"cut off the end", func() []Entry { return clone(es)[:6] }, func() []Checkpoint { return cps }, 6, "removed from the end"},
		{"edited checkpoint link", func() []Entry { return es }, func() []Checkpoint {
			c := slices.Clone(cps)
			c[1].Link = es[6].Link
			return c
		}, 7, "signature"},
		{"edited checkpoint position", func() []Entry { return es }, func() []Checkpoint {
			c := slices.Clone(cps)
			c[0].Seq = 5
			return c
		}, 4, "signature"},
		{"edited signature", func() []Entry { return es }, func() []Checkpoint {
			c := slices.Clone(cps)
			c[0].Signature = slices.Clone(c[0].Signature)
			c[0].Signature[0] ^= 1
			return c
		}, 3, "signature"},
		{"unknown key", func() []Entry { return es }, func() []Checkpoint {
			c := slices.Clone(cps)
			c[0].KeyID = "k9"
			return c
		}, 3, "unknown key"},
		{"signed by the wrong key", func() []Entry { return es }, func() []Checkpoint {
			return []Checkpoint{Sign(otherPriv, "k1", 4, es[3].Link)}
		}, 3, "signature"},
		{"invalid position", func() []Entry { return es }, func() []Checkpoint {
			return []Checkpoint{Sign(priv, "k1", 0, Hash{})}
		}, 0, "invalid position"},
		{"chain break before a checkpoint comes first", func() []Entry {
			e := clone(es)
			e[1].Record[5] ^= 1
			return e
		}, func() []Checkpoint { return cps }, 1, "edited"},
		{"checkpoint break before a chain break comes first", func() []Entry {
			e := clone(es)
			e[8].Record[5] ^= 1
			return e
		}, func() []Checkpoint {
			c := slices.Clone(cps)
			c[0].Signature = nil
			return c
		}, 3, "signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, err := VerifyCheckpoints(tt.es(), tt.cps(), keys)
			if i != tt.broken {
				t.Fatalf("VerifyCheckpoints = %d, %v; want %d", i, err, tt.broken)
			}
			if tt.broken == -1 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var be *BrokenError
			if !errors.As(err, &be) || be.Seq != int64(tt.broken)+1 || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %v, want record %d and %q", err, tt.broken+1, tt.reason)
			}
		})
	}
}
