// Package server is Continuum's http.Server: timeouts, TLS, graceful
// shutdown, and the middleware every request passes through (request id,
// access log without PHI, panic recovery, security headers, body size
// limit). It knows nothing of FHIR: errors it raises itself (a panic, an
// oversized body) are rendered by the ErrorWriter it is given, the REST
// layer's one error function.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/continuum-ehr/continuum/internal/outcome"
)

// Timeouts. ReadHeaderTimeout bounds slow-header (slowloris) attacks; the
// read timeout leaves room for a body of the maximum size on a slow link;
// handlers that stream for longer (bulk export downloads, later) extend
// their own deadline with http.ResponseController.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 2 * time.Minute
	WriteTimeout      = 5 * time.Minute
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10 // generous for bearer tokens, far below the 1 MiB default

	DefaultMaxBodyBytes    = 64 << 20
	DefaultShutdownTimeout = 15 * time.Second
)

// Options configure a Server. Handler and Logger are required.
type Options struct {
	Handler http.Handler
	Logger  *slog.Logger

	// ErrorWriter renders errors the server raises itself: a recovered
	// panic (an outcome Internal error) and a body over MaxBodyBytes (an
	// outcome TooLarge error). Nil writes plain text.
	ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

	MaxBodyBytes    int64         // 0 means DefaultMaxBodyBytes
	ShutdownTimeout time.Duration // 0 means DefaultShutdownTimeout

	// TLSCert and TLSKey are PEM files; when set, Run serves HTTPS.
	TLSCert, TLSKey string
}

// Server serves HTTP until its context ends.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	tls     *tls.Config
}

// New returns a server. It fails when the TLS key pair cannot be loaded.
func New(opts Options) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.ErrorWriter == nil {
		opts.ErrorWriter = plainError
	}
	s := &Server{opts: opts, log: opts.Logger}
	if opts.TLSCert != "" || opts.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("loading TLS key pair: %w", err)
		}
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	// Outermost first: every later step, and every log line, has the
	// request id; the access log sees the final status, including the 500
	// of a recovered panic and the 413 of an oversized body.
	s.handler = s.requestID(s.accessLog(s.recoverPanic(s.securityHeaders(s.limitBody(recordRoute(opts.Handler))))))
	return s, nil
}

// Handler returns the full handler chain, for tests on httptest servers.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on ln until ctx is done, then shuts down gracefully: it stops
// accepting, lets requests in flight finish for up to ShutdownTimeout, and
// closes what remains. It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		TLSConfig:         s.tls,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests do not derive from ctx: cancelling it starts a graceful
		// shutdown, which must not cancel the requests it waits for.
	}
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err // Serve failed before any shutdown
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// plainError is the ErrorWriter of a server given none.
func plainError(w http.ResponseWriter, _ *http.Request, err error) {
	status := outcome.As(err).Kind.HTTPStatus()
	http.Error(w, http.StatusText(status), status)
}
