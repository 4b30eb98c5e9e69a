package relyingparty

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFS embed.FS

// pages renders the app's templates through a buffer, so a template error
// never sends half a page.
type pages struct {
	tmpl map[string]*template.Template
}

func newPages() (*pages, error) {
	p := &pages{tmpl: map[string]*template.Template{}}
	for _, name := range []string{"home", "error", "signed_out"} {
		t, err := template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("relyingparty: parse %s: %w", name, err)
		}
		p.tmpl[name] = t
	}
	return p, nil
}

func (p *pages) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func staticFiles() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// claim is one row of the claims table.
type claim struct{ Name, Value string }

// homePage is the home page: the claims when SignedIn, else the login button.
type homePage struct {
	SignedIn      bool
	Name          string
	Notice        string
	Claims        []claim
	UserInfo      string
	AccessExpires string
	AccessDigest  string
	HasRefresh    bool
}

// timeClaims are shown as dates next to their numeric value.
var timeClaims = []string{"exp", "iat", "auth_time", "updated_at", "nbf"}

func newHomePage(s session) homePage {
	p := homePage{SignedIn: true, Notice: s.notice, HasRefresh: s.token.RefreshToken != ""}
	for _, k := range []string{"name", "preferred_username", "email", "sub"} {
		if v, ok := s.claims[k].(string); ok && v != "" {
			p.Name = v
			break
		}
	}
	names := make([]string, 0, len(s.claims))
	for k := range s.claims {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		p.Claims = append(p.Claims, claim{Name: k, Value: claimValue(k, s.claims[k])})
	}
	info, _ := json.MarshalIndent(s.userInfo, "", "  ")
	p.UserInfo = string(info)
	p.AccessExpires = s.token.Expiry.UTC().Format(time.RFC3339)
	// A digest, never the token: enough to see that a refresh changed it.
	sum := sha256.Sum256([]byte(s.token.AccessToken))
	p.AccessDigest = hex.EncodeToString(sum[:6])
	return p
}

func claimValue(name string, v any) string {
	if f, ok := v.(float64); ok && slices.Contains(timeClaims, name) {
		return fmt.Sprintf("%.0f (%s)", f, time.Unix(int64(f), 0).UTC().Format(time.RFC3339))
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// signedOutPage is the post-logout landing page.
type signedOutPage struct{ Verified bool }

// errorPage explains why a sign-in did not complete.
type errorPage struct{ Message string }
