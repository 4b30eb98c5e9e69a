package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServeRefusesUnsafeConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{"no secret", map[string]string{"GATEHOUSE_SECRET": "", "GATEHOUSE_ISSUER": "https://auth.example.com"}, nil, "GATEHOUSE_SECRET is not set"},
		{"short secret", map[string]string{"GATEHOUSE_SECRET": "only-31-bytes-long-secret-12345", "GATEHOUSE_ISSUER": "https://auth.example.com"}, nil, "too short"},
		{"short secret flag", map[string]string{"GATEHOUSE_ISSUER": "https://auth.example.com"}, []string{"--secret", "short"}, "too short"},
		{"http issuer", map[string]string{"GATEHOUSE_ISSUER": "http://auth.example.com"}, nil, "must be https"},
		{"http localhost issuer without dev", map[string]string{"GATEHOUSE_ISSUER": "http://localhost:8080"}, nil, "must be https"},
		{"http issuer flag", nil, []string{"--issuer", "http://auth.example.com"}, "must be https"},
		{"no issuer", nil, nil, "GATEHOUSE_ISSUER is not set"},
		{"issuer with path", map[string]string{"GATEHOUSE_ISSUER": "https://example.com/auth"}, nil, "path"},
		{"dev http issuer not local", map[string]string{"GATEHOUSE_ISSUER": "http://auth.example.com"}, []string{"--dev"}, "only on localhost"},
		{"bad lifetime", map[string]string{"GATEHOUSE_ISSUER": "https://auth.example.com", "GATEHOUSE_ACCESS_TOKEN_LIFETIME": "-5m"}, nil, "positive duration"},
		{"half TLS", map[string]string{"GATEHOUSE_ISSUER": "https://auth.example.com", "GATEHOUSE_TLS_CERT": "cert.pem"}, nil, "TLS needs both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
			for k, v := range tc.env {
				c.env[k] = v
			}
			stderr := c.fails("", append([]string{"serve"}, tc.args...)...)
			if !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("stderr %q, want it to contain %q", stderr, tc.wantErr)
			}
			if _, err := os.Stat(filepath.Join(c.dir, "gatehouse.db")); err == nil {
				t.Fatal("serve created a database before refusing")
			}
		})
	}
}

func TestServeNoMigrateRefusesPendingMigrations(t *testing.T) {
	c := newCLI(t)
	c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
	c.env["GATEHOUSE_ISSUER"] = "https://auth.example.com"
	if stderr := c.fails("", "serve", "--no-migrate"); !strings.Contains(stderr, "pending migrations") {
		t.Fatalf("serve --no-migrate on a fresh database: %q", stderr)
	}
}

// devStarted is the JSON line of "serve --dev --json".
type devStarted struct {
	Issuer       string `json:"issuer"`
	Addr         string `json:"addr"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	CodeVerifier string `json:"code_verifier"`
	AuthorizeURL string `json:"authorize_url"`
}

func TestServeDevKeepsItsSecretAndRotatesDemoCredentials(t *testing.T) {
	c := newCLI(t)
	delete(c.env, "GATEHOUSE_SECRET")
	c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"

	first := startDev(t, c)
	secretFile := filepath.Join(c.dir, "gatehouse.secret")
	fi, err := os.Stat(secretFile)
	if err != nil {
		t.Fatalf("no secret file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	secret1, _ := os.ReadFile(secretFile)
	if len(strings.TrimSpace(string(secret1))) < 32 {
		t.Fatalf("generated secret has %d bytes, want at least 32", len(strings.TrimSpace(string(secret1))))
	}
	if !strings.HasPrefix(first.info.Issuer, "http://localhost:") || strings.HasSuffix(first.info.Issuer, ":0") {
		t.Fatalf("dev issuer %q, want http://localhost:<bound port>", first.info.Issuer)
	}
	if !strings.HasPrefix(first.info.AuthorizeURL, first.info.Issuer+"/oauth2/auth?") || !strings.Contains(first.info.AuthorizeURL, "code_challenge_method=S256") {
		t.Fatalf("authorize URL %q", first.info.AuthorizeURL)
	}
	resp, err := http.Get("http://" + first.info.Addr + "/healthz")
	if err != nil {
		t.Fatalf("the server does not answer on %s: %v", first.info.Addr, err)
	}
	resp.Body.Close()
	first.proc.stop(t)
	if first.proc.exitCode != 0 {
		t.Fatalf("serve exited with %d after SIGTERM, want 0\nstderr:\n%s", first.proc.exitCode, first.proc.stderr)
	}
	assertNoSecretsLogged(t, first.proc.stderr.String(), first.info.ClientSecret, first.info.Password, string(secret1))

	// A second start reuses the secret file and rotates the demo credentials.
	second := startDev(t, c)
	secret2, _ := os.ReadFile(secretFile)
	if string(secret2) != string(secret1) {
		t.Fatal("the second dev start replaced the secret file")
	}
	if second.info.ClientID != first.info.ClientID || second.info.ClientSecret == first.info.ClientSecret || second.info.Password == first.info.Password {
		t.Fatalf("second start: %+v, want the same client with a new secret and password", second.info)
	}
	second.proc.stop(t)

	// GATEHOUSE_SECRET wins: no secret file is created.
	fresh := newCLI(t)
	fresh.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
	startDev(t, fresh).proc.stop(t)
	if _, err := os.Stat(filepath.Join(fresh.dir, "gatehouse.secret")); err == nil {
		t.Fatal("serve --dev wrote a secret file although GATEHOUSE_SECRET is set")
	}
}

type devRun struct {
	proc *process
	info devStarted
}

func startDev(t *testing.T, c *cli) devRun {
	t.Helper()
	p := start(t, c.command("", "serve", "--dev", "--json"))
	var info devStarted
	line := p.readLine(t, time.Minute)
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("serve --dev --json printed %q: %v", line, err)
	}
	if info.ClientSecret == "" || info.Password == "" || info.CodeVerifier == "" || info.Addr == "" {
		t.Fatalf("serve --dev --json = %+v, want credentials, verifier and address", info)
	}
	return devRun{proc: p, info: info}
}

// assertNoSecretsLogged fails if any of secrets appears in the log.
func assertNoSecretsLogged(t *testing.T, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s = strings.TrimSpace(s); s != "" && strings.Contains(log, s) {
			t.Fatalf("the log contains a secret:\n%s", log)
		}
	}
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSignedCert(t)
	c := newCLI(t)
	c.env["GATEHOUSE_ADDR"] = "127.0.0.1:0"
	c.env["GATEHOUSE_ISSUER"] = "https://auth.example.com"
	c.env["GATEHOUSE_TLS_CERT"] = certFile
	c.env["GATEHOUSE_TLS_KEY"] = keyFile
	p := start(t, c.command("", "serve", "--json"))
	var info devStarted
	line := p.readLine(t, time.Minute)
	if err := json.Unmarshal([]byte(line), &info); err != nil || info.Addr == "" || info.Issuer != "https://auth.example.com" {
		t.Fatalf("serve --json printed %q (%v)", line, err)
	}
	if info.ClientSecret != "" || info.Password != "" {
		t.Fatal("serve outside dev mode printed demo credentials")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + info.Addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz over TLS: %d", resp.StatusCode)
	}
	p.stop(t)
	if p.exitCode != 0 {
		t.Fatalf("serve exited with %d after SIGTERM\nstderr:\n%s", p.exitCode, p.stderr)
	}
	// Production logs are JSON lines.
	for _, l := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		if !json.Valid([]byte(l)) {
			t.Fatalf("log line is not JSON: %q", l)
		}
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gatehouse test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
