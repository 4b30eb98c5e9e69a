package admin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzInput feeds arbitrary bodies and list parameters to the input parsing
// of every operation that takes a body: it must answer 400 or 413 or accept,
// never panic or answer anything else.
func FuzzInput(f *testing.F) {
	for _, seed := range []string{`{}`, `{"client_name":"x","redirect_uris":["https://a/cb"]}`, `{"grace":"24h"}`, `[1]`, `{"a":1}`, `{} {}`, ``, `null`, `{"scopes":"x"}`} {
		f.Add(seed, "page_size=2&page_token=Mg")
	}
	targets := []func() any{
		func() any { return &clientCreate{} }, func() any { return &clientPatch{} }, func() any { return &secretRotate{} },
		func() any { return &userCreate{} }, func() any { return &userPatch{} }, func() any { return &roleCreate{} },
		func() any { return &rolePatch{} }, func() any { return &keyRotate{} }, func() any { return &keyRetire{} },
	}
	items := []int{1, 2, 3, 4, 5}
	f.Fuzz(func(t *testing.T, body, query string) {
		for i, target := range targets {
			for _, optional := range []bool{false, true} {
				w := httptest.NewRecorder()
				r := httptest.NewRequest(http.MethodPost, "/admin/x", strings.NewReader(body))
				if decodeBody(w, r, target(), optional) {
					if w.Code != http.StatusOK || w.Body.Len() != 0 {
						t.Fatalf("target %d accepted the body but wrote %d", i, w.Code)
					}
				} else if w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
					t.Fatalf("target %d: status %d", i, w.Code)
				}
			}
		}
		if _, err := url.ParseQuery(query); err != nil {
			return
		}
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/admin/x", nil)
		r.URL.RawQuery = query
		if p, ok := page(w, r, items); ok {
			if len(p.Items) > maxPageSize || p.Items == nil {
				t.Fatalf("page of %d items", len(p.Items))
			}
		} else if w.Code != http.StatusBadRequest {
			t.Fatalf("page: status %d", w.Code)
		}
	})
}
