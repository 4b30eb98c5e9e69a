package migrations

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
)

func names(t *testing.T, dialect string) []string {
	t.Helper()
	fsys, err := FS(dialect)
	if err != nil {
		t.Fatalf("FS(%q): %v", dialect, err)
	}
	got, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatalf("FS(%q) holds no migrations", dialect)
	}
	for _, name := range got {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, marker := range []string{"-- +goose Up", "-- +goose Down"} {
			if !strings.Contains(text, marker) {
				t.Errorf("%s/%s lacks %q", dialect, name, marker)
			}
		}
	}
	return got
}

// The two dialects must carry the same versions under the same names, so that
// a database's version means the same schema whichever dialect it runs.
func TestDialectsHaveTheSameMigrations(t *testing.T) {
	pg, lite := names(t, "postgres"), names(t, "sqlite")
	if !slices.Equal(pg, lite) {
		t.Fatalf("postgres migrations %v differ from sqlite migrations %v", pg, lite)
	}
}

func TestUnknownDialect(t *testing.T) {
	if _, err := FS("mysql"); err == nil {
		t.Fatal("FS(mysql) succeeded")
	}
}
