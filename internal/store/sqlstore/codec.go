package sqlstore

import (
	_ "embed"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Compression at rest (docs/decisions/0009-compression.md): versions.body
// holds a resource's JSON either as it is, or compressed with zstd
// (RFC 8878) against a dictionary of FHIR R4 text, behind a one-byte marker.
// Stored JSON always starts with '{', so the marker cannot be mistaken for
// it and rows written before compression read as they always did. Reads
// (read, vread, history) decompress one row at a time as they scan it; the
// result is the byte-identical JSON that was stored.
const (
	// bodyJSON: the body is the resource's JSON (rows from before
	// compression, or written with Options.Uncompressed).
	bodyJSON = '{'
	// bodyZstd1: a zstd frame compressed with dictionary 1
	// (fhir-r4-1.zdict), after this byte.
	bodyZstd1 = 0x01
)

// dict1 is dictionary 1: a raw zstd dictionary (content, no entropy tables)
// of FHIR R4 JSON fragments generated from the R4 definitions — element
// names, resource types, code systems of required bindings, common
// structures — not from anyone's data (TestDictionary regenerates it with
// -write-dict). It is frozen: rows compressed with it need exactly these
// bytes, so a better dictionary is dictionary 2 with its own marker.
//
//go:embed fhir-r4-1.zdict
var dict1 []byte

// dict1ID is the dictionary id written into each frame.
const dict1ID = 1

// maxBody bounds what a stored body may decompress to: far above any request
// body the server accepts, low enough that a corrupt row cannot exhaust
// memory.
const maxBody = 1 << 30

// codec compresses and decompresses version bodies. Its encoder and decoder
// are safe for concurrent use (EncodeAll and DecodeAll).
type codec struct {
	compress bool
	enc      *zstd.Encoder
	dec      *zstd.Decoder
}

func newCodec(compress bool) (*codec, error) {
	// The fastest level: with the dictionary it is within 1% of the default
	// level's size at less than half its CPU (decision 0009).
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2),
		zstd.WithEncoderDictRaw(dict1ID, dict1), zstd.WithZeroFrames(true))
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxBody),
		zstd.WithDecoderDictRaw(dict1ID, dict1))
	if err != nil {
		_ = enc.Close()
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	return &codec{compress: compress, enc: enc, dec: dec}, nil
}

// encode returns what to store for body (JSON).
func (c *codec) encode(body []byte) []byte {
	if body == nil || !c.compress {
		return body
	}
	out := make([]byte, 1, 1+len(body)/2)
	out[0] = bodyZstd1
	return c.enc.EncodeAll(body, out)
}

// decode returns the JSON of a stored body.
func (c *codec) decode(stored []byte) ([]byte, error) {
	if len(stored) == 0 {
		return stored, nil // a tombstone
	}
	switch stored[0] {
	case bodyJSON:
		return stored, nil
	case bodyZstd1:
		out, err := c.dec.DecodeAll(stored[1:], make([]byte, 0, 3*len(stored)))
		if err == nil && (len(out) == 0 || out[0] != bodyJSON) {
			err = fmt.Errorf("%d bytes that are not a JSON object", len(out))
		}
		if err != nil {
			return nil, outcome.Wrap(err, "a stored version cannot be decompressed")
		}
		return out, nil
	}
	return nil, outcome.Errorf(outcome.Internal, "a stored version has the unknown encoding 0x%02x", stored[0])
}

func (c *codec) close() {
	_ = c.enc.Close()
	c.dec.Close()
}
