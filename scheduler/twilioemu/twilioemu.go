// Package twilioemu is an in-process emulator of Twilio's Messages API, for
// tests and `morsel bench sms`: Twilio itself is out of reach there.
//
// The real twilio-go client sends to it through scheduler.RewriteTransport. It answers
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json as Twilio does (HTTP
// Basic auth, form parameters, the same JSON and error codes), injects faults
// on demand (Fail), and posts status callbacks signed as Twilio signs them
// from a small pool of workers.
package twilioemu

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Default credentials, used when Options leaves them empty. Like real ones
// they are letters and digits only: twilio-go refuses anything else before
// sending (errors 21222 and 21224).
const (
	DefaultAccountSID = "AC0123456789abcdef0123456789abcdef"
	DefaultAuthToken  = "0123456789abcdef0123456789abcdef"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	AccountSID string // DefaultAccountSID when empty
	AuthToken  string // DefaultAuthToken when empty

	// Addr is where Start listens; "127.0.0.1:0" (a free port) when empty.
	Addr string

	// CallbackDelay is how long after acceptance the first status callback
	// is posted, and how long after each callback the next one is.
	CallbackDelay time.Duration
	// CallbackWorkers is how many goroutines post status callbacks; 8 when
	// zero. Callbacks wait in a queue for a worker, never in goroutines of
	// their own.
	CallbackWorkers int
	// CallbackClient posts the status callbacks; a client with a 5 s timeout
	// and keep-alive for CallbackWorkers connections when nil.
	CallbackClient *http.Client
	// DisableCallbacks posts no status callbacks at all (for benchmarks);
	// messages then reach their final status at once.
	DisableCallbacks bool
	// CallbacksOutOfOrder posts the final status ("delivered", ...) before
	// "sent", as Twilio sometimes does, to test receivers that must not move
	// a message back.
	CallbacksOutOfOrder bool

	// Now is the clock for DateCreated; time.Now when nil. CallbackDelay
	// runs on the real clock.
	Now    func() time.Time
	Logger *slog.Logger // discards when nil
}

// Message is a message the emulator accepted.
type Message struct {
	SID                 string
	AccountSID          string
	From                string // as requested: empty when only MessagingServiceSID was given
	To                  string
	MessagingServiceSID string
	Body                string
	StatusCallback      string
	NumSegments         int // as billed, also when the API answer says 0 (Messaging Service)
	DateCreated         time.Time
	// Status is "queued" ("accepted" with a Messaging Service) when the
	// message is created, then moves on to "sent" and the final status as its
	// status callbacks are posted; it never moves back. Without callbacks it
	// is the final status at once.
	Status    string
	ErrorCode int // the delivery error code once the message is undelivered or failed
}

// Callback is one status callback the emulator posted.
type Callback struct {
	MessageSID     string
	URL            string
	Status         string // the MessageStatus posted
	ErrorCode      int    // the ErrorCode posted, 0 when none
	ResponseStatus int    // the receiver's HTTP status; 0 when the POST failed
	Err            error  // why the POST failed
}

// Server is a Twilio Messages API emulator. It is safe for concurrent use.
type Server struct {
	opts         Options
	log          *slog.Logger
	now          func() time.Time
	authHeader   string // "Basic " + base64(AccountSID:AuthToken), as Go's clients send it
	messagesPath string
	accountURI   string // "/2010-04-01/Accounts/{AccountSID}"
	sidPrefix    string // random per server, so SIDs of two servers differ
	sidSeq       atomic.Uint64

	mu        sync.Mutex
	messages  []record
	waiters   []waiter
	faults    []*Fault
	callbacks []Callback
	// faultCount mirrors len(faults) so that creates skip mu when no fault is queued.
	faultCount atomic.Int64

	queue     callbackQueue
	cbClient  *http.Client
	ownClient bool            // cbClient is ours to close
	cbCtx     context.Context // ends at Close, aborting callbacks in flight
	cbCancel  context.CancelFunc
	workers   sync.WaitGroup

	done      chan struct{} // closed by Close
	closeOnce sync.Once

	httpSrv *http.Server
	url     string
}

// record is a stored message and how far its status has gone.
type record struct {
	Message
	rank int8 // 0 created, 1 sent, 2 final
}

type waiter struct {
	n  int
	ch chan struct{}
}

// New returns a Server with its callback workers running. Serve it with
// Start, or mount Handler on a server of your own; Close it in any case.
func New(opts Options) *Server {
	if opts.AccountSID == "" {
		opts.AccountSID = DefaultAccountSID
	}
	if opts.AuthToken == "" {
		opts.AuthToken = DefaultAuthToken
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.CallbackWorkers <= 0 {
		opts.CallbackWorkers = 8
	}
	s := &Server{
		opts:         opts,
		log:          opts.Logger,
		now:          opts.Now,
		authHeader:   "Basic " + base64.StdEncoding.EncodeToString([]byte(opts.AccountSID+":"+opts.AuthToken)),
		accountURI:   "/2010-04-01/Accounts/" + opts.AccountSID,
		messagesPath: "/2010-04-01/Accounts/" + opts.AccountSID + "/Messages.json",
		cbClient:     opts.CallbackClient,
		done:         make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s.sidPrefix = hex.EncodeToString(b[:])
	if s.cbClient == nil {
		s.ownClient = true
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = opts.CallbackWorkers
		s.cbClient = &http.Client{Transport: tr, Timeout: 5 * time.Second}
	}
	s.cbCtx, s.cbCancel = context.WithCancel(context.Background())
	s.queue.cond = sync.NewCond(&s.queue.mu)
	if !opts.DisableCallbacks {
		for range opts.CallbackWorkers {
			s.workers.Add(1)
			go s.postCallbacks()
		}
	}
	return s
}

// Start serves the emulator on Options.Addr (a free loopback port by
// default); URL then tells where.
func (s *Server) Start() error {
	if s.httpSrv != nil {
		return errors.New("twilioemu: already started")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("twilioemu: listen: %w", err)
	}
	s.httpSrv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.url = "http://" + ln.Addr().String()
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("twilioemu: serve", "err", err)
		}
	}()
	return nil
}

// URL returns the base URL Start serves on, such as "http://127.0.0.1:43117";
// empty before Start.
func (s *Server) URL() string { return s.url }

// Handler returns the emulator as an http.Handler, for httptest.NewServer or
// a mux of your own. Close the emulator before that server: requests held by
// a FaultTimeout end when the emulator closes.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close stops serving (when Start was called), ends held requests and stops
// the callback workers; callbacks still queued are dropped. It is safe to
// call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.cbCancel()
		if s.httpSrv != nil {
			_ = s.httpSrv.Close()
		}
		s.queue.close()
		s.workers.Wait()
		if s.ownClient {
			s.cbClient.CloseIdleConnections()
		}
	})
}

// AccountSID returns the account SID the emulator accepts.
func (s *Server) AccountSID() string { return s.opts.AccountSID }

// AuthToken returns the auth token the emulator accepts and signs with.
func (s *Server) AuthToken() string { return s.opts.AuthToken }

// Messages returns every accepted message, in acceptance order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i := range s.messages {
		out[i] = s.messages[i].Message
	}
	return out
}

// MessageCount returns how many messages were accepted, without copying them.
func (s *Server) MessageCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// Callbacks returns every status callback posted so far, in posting order.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Callback(nil), s.callbacks...)
}

// WaitForMessages blocks until at least n messages have been accepted. It
// returns an error wrapping ctx.Err() if ctx ends first, or an error if the
// emulator is closed.
func (s *Server) WaitForMessages(ctx context.Context, n int) error {
	s.mu.Lock()
	if len(s.messages) >= n {
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	s.waiters = append(s.waiters, waiter{n: n, ch: ch})
	s.mu.Unlock()

	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		s.waiters = slices.DeleteFunc(s.waiters, func(w waiter) bool { return w.ch == ch })
		return fmt.Errorf("twilioemu: %d of %d messages accepted: %w", len(s.messages), n, ctx.Err())
	case <-s.done:
		return errors.New("twilioemu: closed")
	}
}

// nextSID returns a new message SID: "SM" and 32 hex digits.
func (s *Server) nextSID() string {
	var b [34]byte
	b[0], b[1] = 'S', 'M'
	copy(b[2:18], s.sidPrefix)
	n := s.sidSeq.Add(1)
	const digits = "0123456789abcdef"
	for i := 33; i >= 18; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// store appends m and wakes the waiters it satisfies; it returns m's index.
func (s *Server) store(m Message, rank int8) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := len(s.messages)
	s.messages = append(s.messages, record{Message: m, rank: rank})
	if len(s.waiters) > 0 {
		kept := s.waiters[:0]
		for _, w := range s.waiters {
			if w.n <= len(s.messages) {
				close(w.ch)
			} else {
				kept = append(kept, w)
			}
		}
		clear(s.waiters[len(kept):])
		s.waiters = kept
	}
	return i
}
