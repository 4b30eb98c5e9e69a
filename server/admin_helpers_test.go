package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/gatehouse/gatehouse/server/admin"
	"github.com/gatehouse/gatehouse/server/manage"
)

var (
	adminDocOnce sync.Once
	adminDoc     *openapi3.T
	adminDocErr  error
)

// loadAdminDoc parses the embedded OpenAPI document once for the suite.
func loadAdminDoc(t testing.TB) *openapi3.T {
	t.Helper()
	adminDocOnce.Do(func() {
		adminDoc, adminDocErr = openapi3.NewLoader().LoadFromData(admin.OpenAPI())
	})
	if adminDocErr != nil {
		t.Fatal(adminDocErr)
	}
	return adminDoc
}

// adminAPI calls the admin API with a bearer token and validates every
// response against the OpenAPI document.
type adminAPI struct {
	e     *env
	token string
	doc   *openapi3.T
}

// adminToken registers a client holding a role with scopes and returns an
// access token obtained through client credentials.
func (e *env) adminToken(role string, scopes ...string) string {
	e.t.Helper()
	e.role(manage.RoleSpec{Name: role, Scopes: scopes})
	c, secret := e.client(manage.ClientSpec{Name: "Automation " + role, GrantTypes: []string{"client_credentials"}, Scopes: scopes})
	e.grantClient(c.ID, role)
	status, body, _ := e.postForm("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Join(scopes, " ")}}, c.ID, secret)
	if status != http.StatusOK {
		e.t.Fatalf("client credentials: %d %v", status, body)
	}
	token, _ := body["access_token"].(string)
	remember(token)
	return token
}

func (e *env) adminAPI(token string) *adminAPI {
	return &adminAPI{e: e, token: token, doc: loadAdminDoc(e.t)}
}

// call sends method to the documented path template tmpl with params filled
// in; body is marshalled to JSON unless it is a string (sent as is).
func (a *adminAPI) call(method, tmpl string, params map[string]string, query string, body any) (int, map[string]any) {
	t := a.e.t
	t.Helper()
	path := tmpl
	for k, v := range params {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	if query != "" {
		path += "?" + query
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, a.e.issuer+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a.validate(req, tmpl, params, resp, raw)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// validate checks one response against the operation's documented schema.
func (a *adminAPI) validate(req *http.Request, tmpl string, params map[string]string, resp *http.Response, raw []byte) {
	t := a.e.t
	t.Helper()
	item := a.doc.Paths.Value(tmpl)
	if item == nil {
		t.Fatalf("%s is not documented", tmpl)
	}
	op := item.GetOperation(req.Method)
	if op == nil {
		t.Fatalf("%s %s is not documented", req.Method, tmpl)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      &routers.Route{Spec: a.doc, Path: tmpl, PathItem: item, Method: req.Method, Operation: op},
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Body:    io.NopCloser(bytes.NewReader(raw)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d does not match openapi.json: %v\nbody: %s", req.Method, tmpl, resp.StatusCode, err, raw)
	}
}

// must calls and fails the test unless the status is want.
func (a *adminAPI) must(want int, method, tmpl string, params map[string]string, body any) map[string]any {
	a.e.t.Helper()
	status, m := a.call(method, tmpl, params, "", body)
	if status != want {
		a.e.t.Fatalf("%s %s: status %d, want %d: %v", method, tmpl, status, want, m)
	}
	return m
}
