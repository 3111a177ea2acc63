package auth

import "context"

// principalKey is the context key of the caller's Principal.
type principalKey struct{}

// NewContext returns a copy of ctx that carries p. Transports authenticate
// the caller (a bearer token, a UI session) and put the Principal here;
// interaction reads it back with FromContext and decides with it. The
// composition root does the same with NewSystem for jobs and imports.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal ctx carries. ok is false when no
// transport authenticated the caller; interaction then denies everything
// (deny by default, architecture.md §4).
func FromContext(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}
