package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcomes of a password check (label outcome of gatehouse_logins_total).
const (
	LoginSuccess        = "success"
	LoginBadCredentials = "bad_credentials"
	LoginLocked         = "locked"
)

// Outcomes of a second-factor check (label outcome of gatehouse_mfa_total).
const (
	MFASuccess = "success"
	MFAInvalid = "invalid_code"
	MFAReused  = "code_reused"
	MFALocked  = "locked"
)

// Metrics are Gatehouse's collectors.
type Metrics struct {
	gatherer     prometheus.Gatherer
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	tokens       *prometheus.CounterVec
	logins       *prometheus.CounterVec
	mfa          *prometheus.CounterVec
	refreshReuse prometheus.Counter
	lockouts     *prometheus.CounterVec
}

// New builds the collectors and registers them on reg.
func New(reg *prometheus.Registry) (*Metrics, error) {
	m := &Metrics{
		gatherer: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_tokens_issued_total",
			Help: "Token responses issued by the token endpoint, by grant type.",
		}, []string{"grant_type"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_logins_total",
			Help: "Password sign-in attempts by outcome (success, bad_credentials, locked).",
		}, []string{"outcome"}),
		mfa: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_mfa_total",
			Help: "Second-factor checks by outcome (success, invalid_code, code_reused, locked).",
		}, []string{"outcome"}),
		refreshReuse: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_refresh_token_reuse_total",
			Help: "Reuses of a rotated refresh token detected (the token family is revoked).",
		}),
		lockouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_lockouts_total",
			Help: "Sign-in lockouts started, by what was locked (account+address, address).",
		}, []string{"counter"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.tokens, m.logins, m.mfa, m.refreshReuse, m.lockouts} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Handler serves the registry in Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// TokenIssued counts a token response for grant types (fosite's list, in
// practice one).
func (m *Metrics) TokenIssued(grantTypes []string) {
	if m == nil {
		return
	}
	for _, g := range grantTypes {
		m.tokens.WithLabelValues(g).Inc()
	}
}

// Login counts a password check by outcome.
func (m *Metrics) Login(outcome string) {
	if m != nil {
		m.logins.WithLabelValues(outcome).Inc()
	}
}

// MFA counts a second-factor check by outcome; "" is not counted.
func (m *Metrics) MFA(outcome string) {
	if m != nil && outcome != "" {
		m.mfa.WithLabelValues(outcome).Inc()
	}
}

// RefreshReuse counts a detected reuse of a rotated refresh token.
func (m *Metrics) RefreshReuse() {
	if m != nil {
		m.refreshReuse.Inc()
	}
}

// Lockout counts a lockout started on counter ("account+address", "address").
func (m *Metrics) Lockout(counter string) {
	if m != nil {
		m.lockouts.WithLabelValues(counter).Inc()
	}
}

// Middleware counts and times requests by the pattern the mux matched. It
// must wrap the *http.ServeMux directly: the mux sets r.Pattern on the
// request it was given, which a middleware in between would have copied.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(rec.status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// methodLabel bounds the method label to the methods Gatehouse serves.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
