package sqlstore

import (
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/continuum-ehr/continuum/internal/fhir"
)

// loadSynthea reads every resource of the Synthea bundles in ../shared/data
// (see its README), minified.
func loadSynthea(t testing.TB) [][]byte {
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "synthea")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json.bz2"))
	if len(files) == 0 {
		t.Skip("no Synthea bundles in ../shared/data/synthea")
	}
	var out [][]byte
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(bzip2.NewReader(fh))
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		v, err := fhir.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		entries, _ := v.Get("entry")
		for i := range entries.Items {
			r, ok := entries.Items[i].Get("resource")
			if !ok {
				continue
			}
			out = append(out, r.Marshal())
		}
	}
	return out
}

// BenchmarkCompression is the measurement behind
// docs/decisions/0009-compression.md: every third resource of the Synthea
// set, each compressed on its own as a version row would be, by zstd with
// and without dictionary 1 and by DEFLATE (standard library) with and
// without the same dictionary's last 32 KB as a preset dictionary. It
// reports stored bytes per resource and the time to compress and decompress
// one.
//
//	go test ./internal/store/sqlstore -run '^$' -bench Compression -benchtime 1x
func BenchmarkCompression(b *testing.B) {
	all := loadSynthea(b)
	var res [][]byte
	raw := 0
	for i := 0; i < len(all); i += 3 {
		res = append(res, all[i])
		raw += len(all[i])
	}
	b.Logf("%d resources, %.0f bytes/resource minified, dictionary %d bytes", len(res), float64(raw)/float64(len(res)), len(dict1))
	type codec struct {
		name string
		enc  func(dst, src []byte) []byte
		dec  func(dst, src []byte) []byte
	}
	var codecs []codec
	for _, c := range []struct {
		n string
		l zstd.EncoderLevel
		d []byte
	}{{"zstd-fastest", zstd.SpeedFastest, nil}, {"zstd-default", zstd.SpeedDefault, nil},
		{"zstd-fastest+dict", zstd.SpeedFastest, dict1}, {"zstd-default+dict", zstd.SpeedDefault, dict1},
		{"zstd-better+dict", zstd.SpeedBetterCompression, dict1}} {
		eo := []zstd.EOption{zstd.WithEncoderLevel(c.l), zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true)}
		do := []zstd.DOption{zstd.WithDecoderConcurrency(1)}
		if c.d != nil {
			eo = append(eo, zstd.WithEncoderDictRaw(dict1ID, c.d))
			do = append(do, zstd.WithDecoderDictRaw(dict1ID, c.d))
		}
		e, err := zstd.NewWriter(nil, eo...)
		if err != nil {
			b.Fatal(err)
		}
		d, err := zstd.NewReader(nil, do...)
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		defer d.Close()
		codecs = append(codecs, codec{c.n, func(dst, src []byte) []byte { return e.EncodeAll(src, dst) },
			func(dst, src []byte) []byte {
				o, err := d.DecodeAll(src, dst)
				if err != nil {
					b.Fatal(err)
				}
				return o
			}})
	}
	for _, lv := range []int{1, 6} {
		for _, useDict := range []bool{false, true} {
			name := fmt.Sprintf("deflate-%d", lv)
			var dd []byte
			if useDict {
				name += "+dict"
				dd = dict1[len(dict1)-32<<10:]
			}
			var fw *flate.Writer
			var buf bytes.Buffer
			var fr io.ReadCloser
			codecs = append(codecs, codec{name, func(dst, src []byte) []byte {
				buf.Reset()
				if fw == nil {
					fw, _ = flate.NewWriterDict(&buf, lv, dd)
				} else {
					fw.Reset(&buf)
				}
				_, _ = fw.Write(src)
				_ = fw.Close()
				return append(dst, buf.Bytes()...)
			}, func(dst, src []byte) []byte {
				if fr == nil {
					fr = flate.NewReaderDict(bytes.NewReader(src), dd)
				} else {
					_ = fr.(flate.Resetter).Reset(bytes.NewReader(src), dd)
				}
				out := bytes.NewBuffer(dst)
				if _, err := io.Copy(out, fr); err != nil {
					b.Fatal(err)
				}
				return out.Bytes()
			}})
		}
	}
	for _, c := range codecs {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				total := 0
				comp := make([][]byte, len(res))
				start := time.Now()
				for i, r := range res {
					comp[i] = c.enc(nil, r)
					total += len(comp[i])
				}
				encT := time.Since(start)
				start = time.Now()
				var buf []byte
				for i := range res {
					buf = c.dec(buf[:0], comp[i])
				}
				decT := time.Since(start)
				for i := range 100 {
					if !bytes.Equal(c.dec(nil, comp[i]), res[i]) {
						b.Fatalf("%s does not round-trip", c.name)
					}
				}
				b.ReportMetric(float64(total)/float64(len(res)), "B/resource")
				b.ReportMetric(float64(encT.Nanoseconds())/float64(len(res))/1000, "compress-µs")
				b.ReportMetric(float64(decT.Nanoseconds())/float64(len(res))/1000, "decompress-µs")
			}
		})
	}
}
