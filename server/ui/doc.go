// Package ui serves the pages a person sees: login, second factor and its
// enrollment, consent, the account pages and error pages, rendered from the
// embedded templates of package web.
//
// Pages never speak OAuth: a finished step redirects back to the
// authorization endpoint's resume URL, which decides what happens next. Pages
// never show internal error text; details go to the log.
package ui
