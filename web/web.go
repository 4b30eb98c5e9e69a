// Package web holds Gatehouse's page and mail templates and static assets,
// embedded in the binary. It contains no logic: server/ui and server/mail
// parse and render the templates.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

//go:embed mail/*.txt
var mailTemplates embed.FS

// Templates returns the html/template sources (templates/*.html).
func Templates() fs.FS { return templates }

// Mail returns the plain-text mail templates (mail/*.txt).
func Mail() fs.FS { return mailTemplates }

// Static returns the static assets, rooted at static/.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return sub
}
