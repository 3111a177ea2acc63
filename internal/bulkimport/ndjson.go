package bulkimport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/continuum-ehr/continuum/internal/interaction"
)

// chunk is a run of NDJSON lines written in one store transaction.
type chunk struct {
	file  string
	data  []byte // the lines, back to back
	ends  []int  // end offset of each line in data
	lines []int  // line number of each
}

func (c *chunk) bodies() [][]byte {
	out := make([][]byte, len(c.ends))
	start := 0
	for i, end := range c.ends {
		out[i] = c.data[start:end]
		start = end
	}
	return out
}

// ndjson reads NDJSON lines and hands chunks of them to the workers. Blank
// lines are skipped, as the Bulk Data format allows a trailing newline.
func (im *Importer) ndjson(ctx context.Context, pl *pool, name string, r *bufio.Reader) {
	c := &chunk{file: name}
	flush := func() {
		if len(c.ends) == 0 {
			return
		}
		full := c
		pl.run(func() { im.writeChunk(ctx, full) })
		c = &chunk{file: name}
	}
	for line := 1; ; line++ {
		if ctx.Err() != nil {
			return
		}
		start := len(c.data)
		tooLong := false
		var err error
		for {
			var part []byte
			part, err = r.ReadSlice('\n')
			if len(c.data)-start+len(part) > im.opts.MaxBytes {
				tooLong = true
			} else {
				c.data = append(c.data, part...)
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		body := bytes.TrimSpace(c.data[start:])
		switch {
		case tooLong:
			c.data = c.data[:start]
			im.fail(Failure{File: name, Line: line, Entry: -1, Err: fmt.Errorf("line longer than %d bytes", im.opts.MaxBytes)})
		case len(body) == 0:
			c.data = c.data[:start]
		default:
			// Keep the trimmed line only.
			n := copy(c.data[start:], body)
			c.data = c.data[:start+n]
			c.ends = append(c.ends, len(c.data))
			c.lines = append(c.lines, line)
		}
		if err != nil {
			if err != io.EOF {
				im.fail(Failure{File: name, Line: line, Entry: -1, Err: decompressErr(err)})
			}
			break
		}
		if len(c.ends) >= im.opts.ChunkSize || len(c.data) >= 8<<20 {
			flush()
		}
	}
	flush()
}

// writeChunk imports a chunk; when the store fails the whole transaction,
// it retries one resource at a time so that only the culprit fails.
func (im *Importer) writeChunk(ctx context.Context, c *chunk) {
	bodies := c.bodies()
	ids := make([]string, len(bodies))
	for i, b := range bodies {
		ids[i] = contentID(b)
	}
	res, err := im.opts.Service.Import(ctx, interaction.ImportRequest{Org: im.opts.Org, Resources: bodies, IDs: ids})
	if err != nil && ctx.Err() != nil {
		// Interrupted: counted, not reported line by line.
		im.mu.Lock()
		im.sum.Failed += len(bodies)
		im.done.Add(int64(len(bodies)))
		im.mu.Unlock()
		return
	}
	if err != nil {
		if len(bodies) == 1 {
			for _, line := range c.lines {
				im.fail(Failure{File: c.file, Line: line, Entry: -1, Err: errText(err)})
			}
			return
		}
		for i := range bodies {
			one := &chunk{file: c.file, data: bodies[i], ends: []int{len(bodies[i])}, lines: []int{c.lines[i]}}
			im.writeChunk(ctx, one)
		}
		return
	}
	for i, r := range res {
		if r.Err != nil {
			im.fail(Failure{File: c.file, Line: c.lines[i], Entry: -1, Err: errText(r.Err)})
			continue
		}
		im.count(r.Status)
	}
}
