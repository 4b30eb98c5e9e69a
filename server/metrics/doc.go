// Package metrics holds Gatehouse's Prometheus counters and histograms and
// the HTTP middleware that times requests by route pattern.
//
// The collectors are registered on a registry passed in, never on the
// global one. A nil *Metrics counts nothing, so that tests and tools may
// leave metrics out. Labels never carry a user, a client or a raw path:
// their values come from small fixed sets.
package metrics
