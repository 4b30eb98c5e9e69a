package sqlstore

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The models below mirror migrations/*/00001_init.sql column by column; the
// schema is authoritative and GORM never creates or alters tables. Times are
// UTC; the automatic CreatedAt/UpdatedAt handling of GORM is off so that the
// values written are exactly the ones the store chose.

// stringList is a list stored as a JSON array in a TEXT column. Empty lists
// read back as nil.
type stringList []string

func (l stringList) Value() (driver.Value, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func (l *stringList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan list: unexpected %T", src)
	}
	out, err := decodeStringList(b)
	if err != nil {
		return fmt.Errorf("scan list: %w", err)
	}
	*l = out
	return nil
}

// decodeStringList decodes a JSON array of strings; an empty array is nil.
// Every client, token and role read holds several lists, and
// encoding/json's reflection on them was about a tenth of introspection's
// CPU. The lists Value writes are compact arrays of printable ASCII without
// escapes (scopes, URIs, grant types): those are split here, into one string
// for the whole list; anything else goes to encoding/json.
func decodeStringList(b []byte) ([]string, error) {
	if out, ok := splitPlainList(b); ok {
		return out, nil
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		out = nil
	}
	return out, nil
}

// splitPlainList decodes b when it is `[]` or `["a","b",…]` with only
// printable ASCII other than `"` and `\` inside the quotes, the form
// json.Marshal gives such lists; ok is false for any other input.
func splitPlainList(b []byte) (out []string, ok bool) {
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, false
	}
	inner := b[1 : len(b)-1]
	if len(inner) == 0 {
		return nil, true
	}
	n := 1
	for _, c := range inner {
		switch {
		case c == ',':
			n++
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, false
		}
	}
	all := string(inner)
	out = make([]string, 0, n)
	for {
		if len(all) < 2 || all[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(all[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		out = append(out, all[1:end])
		rest := all[end+1:]
		if rest == "" {
			return out, true
		}
		if rest[0] != ',' {
			return nil, false
		}
		all = rest[1:]
	}
}

// timePtr maps the zero time to NULL.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// timeOf maps NULL to the zero time.
func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

// stringPtr maps "" to NULL.
func stringPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func stringOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

type clientModel struct {
	ID                          string     `gorm:"column:id;primaryKey"`
	SecretDigest                []byte     `gorm:"column:secret_digest"`
	RotatedSecretDigest         []byte     `gorm:"column:rotated_secret_digest"`
	RotatedSecretExpiresAt      *time.Time `gorm:"column:rotated_secret_expires_at"`
	RegistrationTokenDigest     []byte     `gorm:"column:registration_token_digest"`
	Name                        string     `gorm:"column:name"`
	RedirectURIs                stringList `gorm:"column:redirect_uris"`
	PostLogoutRedirectURIs      stringList `gorm:"column:post_logout_redirect_uris"`
	GrantTypes                  stringList `gorm:"column:grant_types"`
	ResponseTypes               stringList `gorm:"column:response_types"`
	Scopes                      stringList `gorm:"column:scopes"`
	Audience                    stringList `gorm:"column:audience"`
	Public                      bool       `gorm:"column:is_public"`
	TokenEndpointAuthMethod     string     `gorm:"column:token_endpoint_auth_method"`
	JWKSURI                     string     `gorm:"column:jwks_uri"`
	JWKS                        []byte     `gorm:"column:jwks"`
	TokenEndpointAuthSigningAlg string     `gorm:"column:token_endpoint_auth_signing_alg"`
	SkipConsent                 bool       `gorm:"column:skip_consent"`
	RequireMFA                  bool       `gorm:"column:require_mfa"`
	BackchannelLogoutURI        string     `gorm:"column:backchannel_logout_uri"`
	IDTokenSigningAlg           string     `gorm:"column:id_token_signing_alg"`
	AccessTokenFormat           string     `gorm:"column:access_token_format"`
	CreatedAt                   time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt                   time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (clientModel) TableName() string { return "clients" }

type userModel struct {
	ID                 string    `gorm:"column:id;primaryKey"`
	Username           string    `gorm:"column:username"`
	UsernameNormalized string    `gorm:"column:username_normalized"`
	Email              string    `gorm:"column:email"`
	EmailNormalized    string    `gorm:"column:email_normalized"`
	EmailVerified      bool      `gorm:"column:email_verified"`
	DisplayName        string    `gorm:"column:display_name"`
	PasswordHash       string    `gorm:"column:password_hash"`
	Disabled           bool      `gorm:"column:disabled"`
	RequireMFA         bool      `gorm:"column:require_mfa"`
	CreatedAt          time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt          time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (userModel) TableName() string { return "users" }

type browserSessionModel struct {
	ID         string     `gorm:"column:id;primaryKey"`
	SID        string     `gorm:"column:sid"`
	UserID     string     `gorm:"column:user_id"`
	AuthTime   time.Time  `gorm:"column:auth_time"`
	AMR        stringList `gorm:"column:amr"`
	CreatedAt  time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	LastSeenAt time.Time  `gorm:"column:last_seen_at"`
	ExpiresAt  time.Time  `gorm:"column:expires_at"`
}

func (browserSessionModel) TableName() string { return "browser_sessions" }

type authRequestModel struct {
	ID            string     `gorm:"column:id;primaryKey"`
	BindingDigest string     `gorm:"column:binding_digest"`
	ClientID      string     `gorm:"column:client_id"`
	Query         string     `gorm:"column:query"`
	UserID        *string    `gorm:"column:user_id"`
	AuthTime      *time.Time `gorm:"column:auth_time"`
	AMR           stringList `gorm:"column:amr"`
	ConsentGiven  bool       `gorm:"column:consent_given"`
	CreatedAt     time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	ExpiresAt     time.Time  `gorm:"column:expires_at"`
}

func (authRequestModel) TableName() string { return "auth_requests" }

type consentModel struct {
	UserID    string     `gorm:"column:user_id;primaryKey"`
	ClientID  string     `gorm:"column:client_id;primaryKey"`
	Scopes    stringList `gorm:"column:scopes"`
	GrantedAt time.Time  `gorm:"column:granted_at"`
	ExpiresAt *time.Time `gorm:"column:expires_at"`
}

func (consentModel) TableName() string { return "consents" }

type signingKeyModel struct {
	KID                  string     `gorm:"column:kid;primaryKey"`
	Alg                  string     `gorm:"column:alg"`
	PublicJWK            []byte     `gorm:"column:public_jwk"`
	PrivateKeyCiphertext []byte     `gorm:"column:private_key_ciphertext"`
	CreatedAt            time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	ActivateAt           time.Time  `gorm:"column:activate_at"`
	RetiredAt            *time.Time `gorm:"column:retired_at"`
}

func (signingKeyModel) TableName() string { return "signing_keys" }

type jtiModel struct {
	JTIDigest string    `gorm:"column:jti_digest;primaryKey"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

func (jtiModel) TableName() string { return "client_assertion_jtis" }

// requestModel is one row of any of the five fosite tables; the table is
// chosen per query. AccessSignature exists only in oauth2_refresh_tokens and
// is omitted for the other tables.
type requestModel struct {
	Signature       string     `gorm:"column:signature;primaryKey"`
	RequestID       string     `gorm:"column:request_id"`
	RequestedAt     time.Time  `gorm:"column:requested_at"`
	ClientID        string     `gorm:"column:client_id"`
	Subject         string     `gorm:"column:subject"`
	Scopes          stringList `gorm:"column:scopes"`
	GrantedScopes   stringList `gorm:"column:granted_scopes"`
	Audience        stringList `gorm:"column:audience"`
	GrantedAudience stringList `gorm:"column:granted_audience"`
	Form            string     `gorm:"column:form"`
	SessionData     []byte     `gorm:"column:session_data"`
	Active          bool       `gorm:"column:active"`
	ExpiresAt       *time.Time `gorm:"column:expires_at"`
	AccessSignature string     `gorm:"column:access_signature"`
}
