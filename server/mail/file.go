package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"os"
	"path/filepath"
	"time"
)

// FileSender writes each message as an .eml file into a directory: mail
// for development without a mail server. The files hold live links, so the
// directory is private to the user (0700) and each file 0600.
type FileSender struct {
	dir    string
	from   *netmail.Address
	logger *slog.Logger
	now    func() time.Time
}

// NewFileSender writes into dir, which is created on first use.
func NewFileSender(dir string, from *netmail.Address, logger *slog.Logger) *FileSender {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &FileSender{dir: dir, from: from, logger: logger, now: time.Now}
}

// Send writes m to a new file and logs its name (never its content).
func (f *FileSender) Send(ctx context.Context, m *Message) error {
	msg, err := m.build(f.from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return fmt.Errorf("create mail directory: %w", err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := filepath.Join(f.dir, f.now().UTC().Format("20060102T150405.000000Z")+"-"+hex.EncodeToString(suffix)+".eml")
	// Written under a temporary name and renamed, so that whoever watches
	// the directory never reads half a mail. CreateTemp makes it 0600.
	tmp, err := os.CreateTemp(f.dir, ".mail-*.tmp")
	if err != nil {
		return fmt.Errorf("create mail file: %w", err)
	}
	_, werr := msg.WriteTo(tmp)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), name)
	}
	if werr != nil {
		return errors.Join(fmt.Errorf("write mail file: %w", werr), os.Remove(tmp.Name()))
	}
	f.logger.InfoContext(ctx, "mail written to a file (development mode: no SMTP server configured)", "file", name)
	return nil
}
