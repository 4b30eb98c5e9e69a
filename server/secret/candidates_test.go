package secret

import (
	"bytes"
	"testing"
)

func TestDigesterCandidates(t *testing.T) {
	old := mustKeyring(t, secretA).Digester(PurposeMailToken)
	stored := old.Digest([]byte("token"))

	rotated := mustKeyring(t, secretB, secretA).Digester(PurposeMailToken)
	cands := rotated.Candidates([]byte("token"))
	if len(cands) != 2 {
		t.Fatalf("%d candidates, want one per secret", len(cands))
	}
	if !bytes.Equal(cands[0], rotated.Digest([]byte("token"))) {
		t.Error("the first candidate is not the current digest")
	}
	if !bytes.Equal(cands[1], stored) {
		t.Error("the digest made before the rotation is not a candidate")
	}
	for _, c := range rotated.Candidates([]byte("other")) {
		if bytes.Equal(c, stored) {
			t.Error("another value's candidates include the stored digest")
		}
	}
}
