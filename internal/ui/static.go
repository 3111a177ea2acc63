package ui

import (
	"net/http"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// asset serves an embedded stylesheet or script; they hold no patient
// data, so browsers may cache them for a while.
func (u *UI) asset(name, ctype string) http.HandlerFunc {
	b, err := files.ReadFile("templates/" + name)
	if err != nil {
		panic(err)
	}
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", ctype)
		rw.Header().Set("Cache-Control", "max-age=300")
		_, _ = rw.Write(b)
	}
}

func notFound(http.ResponseWriter, *http.Request, *user) error {
	return outcome.New(outcome.NotFound, "not-found", "no such page")
}
