// Package e2e holds Gatehouse's browser tests: a real Gatehouse (server.New
// on SQLite and on PostgreSQL), the example web app (examples/rp) and the
// example single-page app (examples/spa, built with npm) driven by headless
// Chromium through github.com/chromedp/chromedp. Every page the tests visit
// is checked for accessibility (axe-core, labels, errors tied to fields,
// visible focus, no horizontal scroll on a phone); the tests also take the
// screenshots in docs/screenshots.
//
// The package has no code outside its tests. Without Chromium, npm or the
// SPA's node modules the tests skip with a loud message, unless
// GATEHOUSE_TEST_REQUIRE_BROWSER=1 (set by CI) makes them fail.
package e2e
