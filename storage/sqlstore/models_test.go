package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecodeStringList(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: `[]`, want: nil},
		{in: `null`, want: nil},
		{in: `["openid"]`, want: []string{"openid"}},
		{in: `["openid","profile","a,b"]`, want: []string{"openid", "profile", "a,b"}},
		{in: `[""]`, want: []string{""}},
		{in: `["https://app.example/cb?x=1&y=[2]"]`, want: []string{"https://app.example/cb?x=1&y=[2]"}},
		{in: `[ "spaced" , "list" ]`, want: []string{"spaced", "list"}},
		{in: `["esc\"aped","\u00e9t\u00e9"]`, want: []string{`esc"aped`, "été"}},
		{in: `["été"]`, want: []string{"été"}},
		{in: `["a",]`, wantErr: true},
		{in: `["a""b"]`, wantErr: true},
		{in: `["a"]]`, wantErr: true},
		{in: `[a]`, wantErr: true},
		{in: `["unterminated]`, wantErr: true},
		{in: `[`, wantErr: true},
		{in: ``, wantErr: true},
		{in: `{"a":1}`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := decodeStringList([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("decodeStringList(%s): error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decodeStringList(%s) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

// FuzzDecodeStringList checks that the plain-list fast path decodes exactly
// what encoding/json decodes, and fails exactly where it fails.
func FuzzDecodeStringList(f *testing.F) {
	for _, seed := range []string{`[]`, `["a","b"]`, `[""]`, `["a,b"]`, `["a",]`, `["x\"y"]`, `[1]`, `null`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeStringList(b)
		var want []string
		wantErr := json.Unmarshal(b, &want)
		if len(want) == 0 {
			want = nil
		}
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("decodeStringList(%q): error %v, encoding/json's %v", b, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeStringList(%q) = %#v, encoding/json gives %#v", b, got, want)
		}
	})
}

func BenchmarkDecodeStringList(b *testing.B) {
	list := []byte(`["openid","profile","email","offline_access"]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeStringList(list); err != nil {
			b.Fatal(err)
		}
	}
}
