package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
)

// Hash is a SHA-256 value: a record digest or a chain link.
type Hash [sha256.Size]byte

// Entry is one position of the audit chain as the store keeps it.
//
// Record holds the AuditEvent bytes exactly as first written. A retention
// policy may purge it (set it to nil) once the record is old enough; Digest
// and Link stay, so the chain still verifies and later records stay
// anchored. Nothing else about an entry ever changes.
type Entry struct {
	Seq    int64  // 1, 2, 3, … with no gaps
	Record []byte // nil when purged
	Digest Hash   // SHA-256(Record)
	Link   Hash   // SHA-256(previous Link || Digest); the previous Link of Seq 1 is all zeros
}

// Digest is the digest of a record's bytes.
func Digest(record []byte) Hash { return sha256.Sum256(record) }

// Link is the chain link after prev for a record with digest d. Chaining
// digests rather than records is what lets old records be purged without
// breaking the chain.
func Link(prev, d Hash) Hash {
	var buf [2 * sha256.Size]byte
	copy(buf[:], prev[:])
	copy(buf[sha256.Size:], d[:])
	return sha256.Sum256(buf[:])
}

// Chain appends records. It holds the head (last position and link) and
// nothing else; the store owns persistence and must serialize appends
// (each link depends on the one before). The zero Chain starts a new chain.
type Chain struct {
	seq  int64
	link Hash
}

// Resume continues a chain after its last stored entry.
func Resume(last Entry) Chain { return Chain{seq: last.Seq, link: last.Link} }

// Append returns the entry for the next record.
func (c *Chain) Append(record []byte) Entry {
	d := Digest(record)
	c.seq++
	c.link = Link(c.link, d)
	return Entry{Seq: c.seq, Record: record, Digest: d, Link: c.link}
}

// Head returns the position and link of the last appended entry (0 and
// zeros for an empty chain).
func (c Chain) Head() (int64, Hash) { return c.seq, c.link }

// Checkpoint is a signature over the chain's link at a position. Links
// alone do not stop someone with write access to the database from
// rewriting the whole chain and recomputing every link; a signature by a
// key held outside the database does: a rewritten chain no longer reaches
// the signed link.
type Checkpoint struct {
	Seq       int64
	Link      Hash
	KeyID     string // which key signed, so keys can rotate
	Signature []byte // ed25519 over checkpointMessage(Seq, Link)
}

// checkpointContext separates checkpoint signatures from anything else the
// same key might ever sign.
const checkpointContext = "continuum audit checkpoint v1\n"

func checkpointMessage(seq int64, link Hash) []byte {
	msg := make([]byte, 0, len(checkpointContext)+8+len(link))
	msg = append(msg, checkpointContext...)
	msg = binary.BigEndian.AppendUint64(msg, uint64(seq))
	return append(msg, link[:]...)
}

// Sign returns a checkpoint of the link at seq.
func Sign(key ed25519.PrivateKey, keyID string, seq int64, link Hash) Checkpoint {
	return Checkpoint{Seq: seq, Link: link, KeyID: keyID, Signature: ed25519.Sign(key, checkpointMessage(seq, link))}
}

// Valid reports whether the checkpoint's signature is good under pub.
func (c Checkpoint) Valid(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, checkpointMessage(c.Seq, c.Link), c.Signature)
}
