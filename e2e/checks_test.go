package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// pageCheckCases are pages with one known fault each, and a page without
// any: the checks every visited page goes through must tell them apart.
var pageCheckCases = []struct {
	name, body string
	// want are substrings of the problems expected; none means a clean page.
	want []string
}{
	{
		name: "clean",
		body: `<main><h1>Sign in</h1><form><label for="u">Username</label><input id="u" name="u" aria-invalid="true" aria-describedby="u-error">
<p class="error" id="u-error">Unknown user.</p><button>Go</button></form></main>`,
	},
	{
		name: "no label",
		body: `<main><h1>Sign in</h1><form><input id="u" name="u"><button>Go</button></form></main>`,
		want: []string{"axe label (critical)", "field u has no <label>"},
	},
	{
		name: "error not tied to its field",
		body: `<main><h1>Sign in</h1><form><label for="u">Username</label><input id="u" name="u" aria-invalid="true">
<p class="error" id="u-error">Unknown user.</p><button>Go</button></form></main>`,
		want: []string{"field u is aria-invalid but names no error", `error "Unknown user." is not tied to a field`},
	},
	{
		name: "describedby names nothing",
		body: `<main><h1>Sign in</h1><form><label for="u">Username</label><input id="u" name="u" aria-describedby="gone"><button>Go</button></form></main>`,
		want: []string{"aria-describedby names a missing or empty #gone"},
	},
	{
		name: "too wide for a phone",
		body: `<main><h1>Wide</h1><div id="wide" style="width: 600px">x</div><a href="/">Home</a></main>`,
		want: []string{"scrolls sideways at 390 px", "div#wide"},
	},
	{
		name: "focus hidden",
		body: `<style>a:focus { outline: none }</style><main><h1>Focus</h1><a href="/">Home</a></main>`,
		want: []string{"focused a shows no focus indicator"},
	},
	{
		name: "low contrast",
		body: `<main><h1>Pale</h1><p style="color: #ccc">Hard to read.</p><a href="/">Home</a></main>`,
		want: []string{"axe color-contrast (serious)"},
	},
}

// TestPageChecksCatchProblems shows that the page checks are not vacuous:
// each fault is reported, and a clean page passes.
func TestPageChecksCatchProblems(t *testing.T) {
	requireBrowser(t)
	pages := http.NewServeMux()
	for i, c := range pageCheckCases {
		pages.HandleFunc("/"+string(rune('a'+i)), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>` +
				c.name + `</title><style>:focus-visible { outline: 3px solid #1f5fbf }</style></head><body>` + c.body + `</body></html>`))
		})
	}
	srv := httptest.NewServer(pages)
	t.Cleanup(srv.Close)
	b := newBrowser(t, nil)
	for i, c := range pageCheckCases {
		t.Run(c.name, func(t *testing.T) {
			b.t = t
			b.navigate(srv.URL + "/" + string(rune('a'+i)))
			problems := b.pageProblems(c.name)
			joined := strings.Join(problems, "\n")
			if len(c.want) == 0 && len(problems) > 0 {
				t.Errorf("a clean page got problems:\n%s", joined)
			}
			for _, w := range c.want {
				if !strings.Contains(joined, w) {
					t.Errorf("want a problem with %q, got:\n%s", w, joined)
				}
			}
		})
	}
}
