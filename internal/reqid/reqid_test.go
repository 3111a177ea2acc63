package reqid

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"abc-123.X", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"a b", false},
		{"a\nlevel=ERROR", false},
		{"ä", false},
		{"a_b", false},
	} {
		if got := Valid(tc.id); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestNewIsValidAndUnique(t *testing.T) {
	a, b := New(), New()
	if !Valid(a) || !Valid(b) || a == b {
		t.Fatalf("New() = %q, %q: want two distinct valid ids", a, b)
	}
}

func TestHandlerAddsID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewTextHandler(&buf, nil))).With("component", "test")
	log.InfoContext(With(context.Background(), "REQ1"), "hello")
	log.InfoContext(context.Background(), "no id")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "request_id=REQ1") || !strings.Contains(lines[0], "component=test") {
		t.Errorf("line with id = %q, want request_id=REQ1 and component=test", lines[0])
	}
	if strings.Contains(lines[1], "request_id") {
		t.Errorf("line without id = %q, want no request_id", lines[1])
	}
}
