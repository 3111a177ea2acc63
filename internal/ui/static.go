package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
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

// formStatus answers a form that needs correcting: the page with the
// messages is the answer, so it is 200 — a 4xx would make browsers log a
// failed request on every validation message.
const formStatus = http.StatusOK

// favicon is a 16×16 square in the accent colour, so that browsers'
// automatic /favicon.ico request does not fail.
func favicon() http.HandlerFunc {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{0x0b, 0x5c, 0xad, 0xff})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "image/png")
		rw.Header().Set("Cache-Control", "max-age=86400")
		_, _ = rw.Write(b.Bytes())
	}
}
