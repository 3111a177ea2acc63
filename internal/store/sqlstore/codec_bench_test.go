//go:build unix

package sqlstore

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkCodec is the CPU that compression adds to a write (encode) and to
// every read, vread and history entry (decode) of a Synthea-shaped
// Observation.
//
//	go test ./internal/store/sqlstore -run '^$' -bench Codec
func BenchmarkCodec(b *testing.B) {
	c, err := newCodec(true)
	if err != nil {
		b.Fatal(err)
	}
	defer c.close()
	body := []byte(benchObservation)
	z := c.encode(body)
	// On a busy machine wall time per op overstates the cost; the process's
	// CPU time per op (cpu-µs) is the cost other work pays.
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		c0 := cpu()
		for range b.N {
			c.encode(body)
		}
		b.ReportMetric(float64((cpu()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		c0 := cpu()
		for range b.N {
			if _, err := c.decode(z); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpu()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
	})
	b.Logf("%d bytes → %d stored", len(body), len(z))
}
