package server_test

import (
	"io"
	"strings"

	"golang.org/x/net/html"
)

// form is an HTML form as a browser sees it.
type form struct {
	action, method string
	fields         map[string]string // hidden and text inputs: name → value
	inputs         []map[string]string
	buttons        []map[string]string
}

// parseForms returns the forms of a page.
func parseForms(r io.Reader) ([]*form, *html.Node, error) {
	doc, err := html.Parse(r)
	if err != nil {
		return nil, nil, err
	}
	var forms []*form
	var cur *form
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			switch n.Data {
			case "form":
				cur = &form{action: a["action"], method: strings.ToUpper(a["method"]), fields: map[string]string{}}
				forms = append(forms, cur)
			case "input":
				if cur != nil {
					cur.inputs = append(cur.inputs, a)
					if a["name"] != "" {
						cur.fields[a["name"]] = a["value"]
					}
				}
			case "button":
				if cur != nil {
					cur.buttons = append(cur.buttons, a)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms, doc, nil
}

func attrs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

// input returns the first input whose attribute key has value val.
func (f *form) input(key, val string) map[string]string {
	for _, in := range f.inputs {
		if in[key] == val {
			return in
		}
	}
	return nil
}

// button returns the first button with the given name and value.
func (f *form) button(name, value string) map[string]string {
	for _, b := range f.buttons {
		if b["name"] == name && b["value"] == value {
			return b
		}
	}
	return nil
}

// textOf returns the text content of a node.
func textOf(n *html.Node) string {
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(sb.String()), " ")
}
