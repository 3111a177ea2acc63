package sqlstore

import (
	"encoding/json"
	"testing"
)

// FuzzSearchCursor: the _page cursor comes from the URL. Decoding never
// panics, and a decoded cursor's keys either convert or are refused.
func FuzzSearchCursor(f *testing.F) {
	good := (&cursor{Query: "q", Snap: 9, Keys: []json.RawMessage{json.RawMessage(`"abc"`), json.RawMessage(`null`)}, Rkey: 3, Total: 2}).encode()
	for _, s := range []string{good, "", "!!", "eyJxIjoicSJ9", "eyJxIjoicSIsImsiOlsxXX0"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n & 3
		c, err := decodeCursor(s, "q", n)
		if err != nil {
			return
		}
		if len(c.Keys) != n {
			t.Fatalf("decoded %d keys, want %d", len(c.Keys), n)
		}
		for _, k := range c.Keys {
			for _, kind := range []sortKind{sortText, sortBytes, sortInt, sortFloat} {
				_, _, _ = cursorArg(k, kind)
			}
		}
	})
}

func TestCursorRoundTrip(t *testing.T) {
	keys := []json.RawMessage{
		keyValue("text", sortText), keyValue([]byte{0xff, 'a'}, sortBytes), keyValue(int64(1795599004500000), sortInt),
		keyValue(0.1+0.2, sortFloat), keyValue(nil, sortInt),
	}
	c := &cursor{Query: "h", Snap: 1, Keys: keys, Rkey: 2}
	d, err := decodeCursor(c.encode(), "h", len(keys))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"text", []byte{0xff, 'a'}, int64(1795599004500000), 0.1 + 0.2, nil}
	for i, kind := range []sortKind{sortText, sortBytes, sortInt, sortFloat, sortInt} {
		v, null, err := cursorArg(d.Keys[i], kind)
		if err != nil || (null != (want[i] == nil)) || (want[i] != nil && string(mustJSON(v)) != string(mustJSON(want[i]))) {
			t.Errorf("key %d = %v (null %v), %v; want %v", i, v, null, err, want[i])
		}
	}
	if _, err := decodeCursor(c.encode(), "other", len(keys)); err == nil {
		t.Error("a cursor of another query decoded")
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }
