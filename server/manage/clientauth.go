package manage

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"net/url"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/storage"
)

const minRSABits = 2048

// clientAuthentication settles how the client authenticates at the token
// endpoint and checks the keys of a private_key_jwt client.
func clientAuthentication(spec ClientSpec, c *storage.Client) error {
	hasKeys := spec.JWKSURI != "" || len(spec.JWKS) > 0
	method := spec.TokenEndpointAuthMethod
	if method == "" {
		switch {
		case spec.Public:
			method = storage.AuthMethodNone
		case hasKeys:
			method = storage.AuthMethodPrivateKeyJWT
		default:
			method = storage.AuthMethodClientSecretBasic
		}
	}
	switch method {
	case storage.AuthMethodNone:
		if !spec.Public {
			return invalid("token_endpoint_auth_method", "none is only for public clients (register it as public)")
		}
	case storage.AuthMethodClientSecretBasic, storage.AuthMethodClientSecretPost, storage.AuthMethodPrivateKeyJWT:
		if spec.Public {
			return invalid("token_endpoint_auth_method", "a public client authenticates with none, not %s", method)
		}
	default:
		return invalid("token_endpoint_auth_method", "%q is not supported (use none, client_secret_basic, client_secret_post or private_key_jwt)", method)
	}
	c.TokenEndpointAuthMethod = method
	if method != storage.AuthMethodPrivateKeyJWT {
		if hasKeys {
			return invalid("jwks", "a key set is only used with private_key_jwt")
		}
		if spec.TokenEndpointAuthSigningAlg != "" {
			return invalid("token_endpoint_auth_signing_alg", "only used with private_key_jwt")
		}
		return nil
	}
	return privateKeyJWT(spec, c)
}

func privateKeyJWT(spec ClientSpec, c *storage.Client) error {
	switch {
	case spec.JWKSURI != "" && len(spec.JWKS) > 0:
		return invalid("jwks", "give either a JWKS URI or a JWKS, not both")
	case spec.JWKSURI == "" && len(spec.JWKS) == 0:
		return invalid("jwks", "private_key_jwt needs a JWKS URI or a JWKS with the client's public keys")
	}
	alg := spec.TokenEndpointAuthSigningAlg
	if alg != "" && alg != AlgRS256 && alg != AlgES256 {
		return invalid("token_endpoint_auth_signing_alg", "%q is not supported (use RS256 or ES256)", alg)
	}
	if spec.JWKSURI != "" {
		u, err := url.Parse(spec.JWKSURI)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.Contains(spec.JWKSURI, "#") {
			return invalid("jwks_uri", "%q must be an absolute https URL without fragment", spec.JWKSURI)
		}
		c.JWKSURI = spec.JWKSURI
		if alg == "" {
			alg = AlgRS256
		}
		c.TokenEndpointAuthSigningAlg = alg
		return nil
	}
	set, inferred, err := publicKeySet(spec.JWKS, alg)
	if err != nil {
		return err
	}
	if alg == "" {
		alg = inferred
	}
	raw, err := json.Marshal(set)
	if err != nil {
		return invalid("jwks", "cannot encode the key set")
	}
	c.JWKS = raw
	c.TokenEndpointAuthSigningAlg = alg
	return nil
}

// publicKeySet parses a JWKS and accepts it only if every key is a public
// RSA (2048 bits or more) or P-256 key meant for signatures, and at least one
// key fits alg. With alg empty it returns ES256 when every key is P-256.
func publicKeySet(raw []byte, alg string) (*jose.JSONWebKeySet, string, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, "", invalid("jwks", "not a valid JSON Web Key Set")
	}
	if len(set.Keys) == 0 {
		return nil, "", invalid("jwks", "the key set holds no keys")
	}
	var rsaKeys, ecKeys int
	for i, k := range set.Keys {
		if !k.Valid() || !k.IsPublic() {
			return nil, "", invalid("jwks", "key %d is not a valid public key (private or symmetric keys are refused)", i)
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, "", invalid("jwks", "key %d is not a signing key (use %q)", i, k.Use)
		}
		switch pk := k.Key.(type) {
		case *rsa.PublicKey:
			if pk.N.BitLen() < minRSABits {
				return nil, "", invalid("jwks", "key %d: RSA keys must have at least %d bits", i, minRSABits)
			}
			rsaKeys++
		case *ecdsa.PublicKey:
			if pk.Curve != elliptic.P256() {
				return nil, "", invalid("jwks", "key %d: only P-256 elliptic curve keys are supported", i)
			}
			ecKeys++
		default:
			return nil, "", invalid("jwks", "key %d: only RSA and P-256 keys are supported", i)
		}
	}
	inferred := AlgRS256
	if rsaKeys == 0 {
		inferred = AlgES256
	}
	switch {
	case alg == AlgRS256 && rsaKeys == 0:
		return nil, "", invalid("jwks", "RS256 needs an RSA key in the key set")
	case alg == AlgES256 && ecKeys == 0:
		return nil, "", invalid("jwks", "ES256 needs a P-256 key in the key set")
	}
	return &set, inferred, nil
}
