package session

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// The device cookie remembers which accounts signed in successfully from
// this browser. It keeps the owner's browser out of the per-account lockout,
// so that a stranger guessing passwords cannot lock the owner out. It is
// sealed (it cannot be forged or read) and names at most maxDeviceAccounts
// accounts.
const (
	deviceCookieLifetime = 365 * 24 * time.Hour
	maxDeviceAccounts    = 5
)

// TrustedDevice reports whether this browser signed in to userID before.
func (m *Manager) TrustedDevice(r *http.Request, userID string) bool {
	return slices.Contains(m.deviceAccounts(r), userID)
}

// RememberDevice records a successful sign-in of userID in the device cookie.
func (m *Manager) RememberDevice(w http.ResponseWriter, r *http.Request, userID string) {
	accounts := slices.DeleteFunc(m.deviceAccounts(r), func(id string) bool { return id == userID })
	accounts = append([]string{userID}, accounts...)
	if len(accounts) > maxDeviceAccounts {
		accounts = accounts[:maxDeviceAccounts]
	}
	b, err := json.Marshal(accounts)
	if err != nil {
		return
	}
	m.writeCookie(w, m.deviceName, base64.RawURLEncoding.EncodeToString(b), deviceCookieLifetime)
}

func (m *Manager) deviceAccounts(r *http.Request) []string {
	raw, ok := m.readCookie(r, m.deviceName)
	if !ok {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil
	}
	var accounts []string
	if json.Unmarshal(b, &accounts) != nil {
		return nil
	}
	return accounts
}
