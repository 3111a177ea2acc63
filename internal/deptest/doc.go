// Package deptest holds tests that enforce the architecture's import rules
// (architecture.md §2) with `go list -deps`, and that every package has a
// package comment. It has no code of its own.
package deptest
