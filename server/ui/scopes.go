package ui

// ScopeDescription is a scope with the sentence a person reads on the consent page.
type ScopeDescription struct {
	Name        string
	Description string
}

var scopeDescriptions = map[string]string{
	"openid":         "Sign you in with your account",
	"profile":        "See your name and username",
	"email":          "See your email address",
	"offline_access": "Stay connected while you are away (keep access until you revoke it)",
}

// DescribeScope returns the human description of a scope; unknown scopes are
// described by their name.
func DescribeScope(scope string) ScopeDescription {
	if d, ok := scopeDescriptions[scope]; ok {
		return ScopeDescription{Name: scope, Description: d}
	}
	return ScopeDescription{Name: scope, Description: "Access “" + scope + "”"}
}
