// Package dcr serves OAuth 2.0 dynamic client registration (RFC 7591) and
// client configuration (RFC 7592) at /oauth2/register.
//
// It validates and stores clients through manage.Service and adds the rules
// for untrusted registrants (no gatehouse:* scopes, no skip-consent, public
// https back-channel URIs only). It must not log or echo any token or secret,
// and must never show a client secret after the registration response.
package dcr
