package admin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPIMatchesRoutes compares the document and the route table both
// ways: every route is documented and every documented operation is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{"GET " + OpenAPIPath: true}
	for _, rt := range routes {
		routed[rt.method+" "+rt.pattern] = true
	}
	for op := range routed {
		if !documented[op] {
			t.Errorf("route %s is not in openapi.json", op)
		}
	}
	for op := range documented {
		if !routed[op] {
			t.Errorf("openapi.json documents %s, which is not routed", op)
		}
	}
	if len(routed) != len(routes)+1 {
		t.Errorf("the route table has duplicates")
	}
}

// TestOpenAPIValid loads the document with kin-openapi and validates it.
func TestOpenAPIValid(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if len(op.Responses.Map()) == 0 {
				t.Errorf("%s %s documents no response", method, path)
			}
			if path != OpenAPIPath && op.Responses.Value("401") == nil {
				t.Errorf("%s %s does not document 401", method, path)
			}
		}
	}
}
