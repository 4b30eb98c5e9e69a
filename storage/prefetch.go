package storage

// A Prefetch names rows one request is about to read through a store's
// usual methods, so that the store can read them together: on PostgreSQL
// in one round trip instead of one each (the token endpoint reads the
// client, then the code, then its PKCE and OpenID rows; introspection
// reads the caller, then the token; the authorization endpoint the client,
// the browser session, its user and her consent). It is not a cache: the
// rows are read when the request begins, each is answered once, outside
// transactions only, and nothing outlives the request.
type Prefetch struct {
	// ClientID is the client that authenticates the request.
	ClientID string
	// Rows are fosite records, each named by the key fosite will pass to
	// the store's Get method.
	Rows []PrefetchRow
	// SubjectsOf are fosite records whose subject, a user, the request
	// reads too, with FindUser: the refresh policy reads the user of the
	// refresh token, UserInfo the user of the access token. A user is
	// answered from the prefetch only when both the record and she were
	// found.
	SubjectsOf []PrefetchRow
	// BrowserSession is the id of a browser session the request reads
	// (the authorization endpoint, for a browser with a session cookie):
	// the session itself (FindBrowserSession), its user (FindUser) and,
	// with ClientID, her consent to that client (FindConsent). The user
	// and the consent are answered from the prefetch only when the session
	// was found; an expired session is not found, as without a prefetch.
	BrowserSession string
}

// PrefetchRow names one fosite record.
type PrefetchRow struct {
	Kind RecordKind
	Key  string
}

// RecordKind is a kind of fosite record.
type RecordKind int

// The kinds of fosite record a Prefetch can name.
const (
	AccessTokenRecord RecordKind = iota + 1
	RefreshTokenRecord
	AuthorizeCodeRecord
	PKCERecord
	OpenIDSessionRecord
)
