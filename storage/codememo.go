package storage

import "context"

// fosite's authorization-code grant reads the code in both of its phases
// of one token request: once to validate the request, once to issue the
// tokens. A token request may carry a CodeMemo, in which a store keeps the
// first read of an active code to answer the second from. It lives for one
// request, and it decides nothing: the code's invalidation that follows is
// conditional in the database, so of two concurrent exchanges of one code
// exactly one still succeeds.
type CodeMemo struct {
	// Key identifies the code the memo holds; Row is the store's own
	// record of it.
	Key string
	Row any
}

type codeMemoKey struct{}

// WithCodeMemo returns ctx carrying an empty CodeMemo.
func WithCodeMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, codeMemoKey{}, &CodeMemo{})
}

// CodeMemoFrom returns the CodeMemo of ctx, or nil.
func CodeMemoFrom(ctx context.Context) *CodeMemo {
	m, _ := ctx.Value(codeMemoKey{}).(*CodeMemo)
	return m
}
