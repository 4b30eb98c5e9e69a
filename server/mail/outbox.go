package mail

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Outbox delivers messages in the background, one at a time in the order
// they were posted, so that the page that caused a mail answers at once and
// in the same time whether or not a mail went out. A failed delivery is
// logged and dropped: the person asks again. Messages still queued when the
// process ends are lost; Close gives them a bounded time to go out.
type Outbox struct {
	sender   Sender
	logger   *slog.Logger
	timeout  time.Duration
	maxQueue int

	mu      sync.Mutex
	queue   []envelope
	pending int           // queued plus in delivery
	idle    chan struct{} // closed when pending drops to zero
	closed  bool
}

type envelope struct {
	msg   *Message
	attrs []any
}

// Defaults of NewOutbox.
const (
	DefaultSendTimeout = 30 * time.Second
	DefaultMaxQueue    = 1000
)

// NewOutbox returns an outbox delivering through sender; each delivery is
// bounded by timeout (DefaultSendTimeout when <= 0).
func NewOutbox(sender Sender, logger *slog.Logger, timeout time.Duration) *Outbox {
	if timeout <= 0 {
		timeout = DefaultSendTimeout
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	idle := make(chan struct{})
	close(idle)
	return &Outbox{sender: sender, logger: logger, timeout: timeout, maxQueue: DefaultMaxQueue, idle: idle}
}

// Post queues m for delivery. attrs (slog key-value pairs such as the kind
// of mail and the user id; never the address or the body) go into the log
// lines about it. It reports false when the message was dropped because the
// outbox is full or closed.
func (o *Outbox) Post(m *Message, attrs ...any) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || len(o.queue) >= o.maxQueue {
		o.logger.Error("mail dropped: the outbox is full or closed", attrs...)
		return false
	}
	o.queue = append(o.queue, envelope{msg: m, attrs: attrs})
	if o.pending == 0 {
		o.idle = make(chan struct{})
		go o.deliver()
	}
	o.pending++
	return true
}

// deliver sends queued messages until the queue is empty. One goroutine at
// most runs it (started by the Post that found the outbox idle).
func (o *Outbox) deliver() {
	for {
		o.mu.Lock()
		if len(o.queue) == 0 {
			o.mu.Unlock()
			return
		}
		env := o.queue[0]
		o.queue[0] = envelope{}
		o.queue = o.queue[1:]
		o.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		err := o.sender.Send(ctx, env.msg)
		cancel()
		if err != nil {
			o.logger.Error("mail not sent", append(env.attrs, "err", err)...)
		} else {
			o.logger.Info("mail sent", env.attrs...)
		}

		o.mu.Lock()
		o.pending--
		if o.pending == 0 {
			close(o.idle)
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()
	}
}

// Wait blocks until every posted message was delivered or dropped, or ctx ends.
func (o *Outbox) Wait(ctx context.Context) error {
	o.mu.Lock()
	idle := o.idle
	o.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting messages and waits, at most until ctx ends, for
// those queued to go out.
func (o *Outbox) Close(ctx context.Context) error {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	return o.Wait(ctx)
}
