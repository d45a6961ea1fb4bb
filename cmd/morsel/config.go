package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/morselhq/morsel/scheduler"
	"github.com/morselhq/morsel/tracking"
)

// Config is the whole configuration, read once from the environment, with flags
// overriding it, and validated once. Secrets may come from files: NAME_FILE.
type Config struct {
	DatabaseURL   string
	ClickHouseURL string
	// ClickHouseCluster names the ClickHouse cluster (remote_servers) the
	// schema is sharded over by organisation; empty: one server.
	ClickHouseCluster string
	HTTPAddr          string
	PublicURL         string
	// OperatorOrg is the slug of the organisation of the people who run
	// Morsel: its admins see River's UI at /admin/jobs (env OPERATOR_ORG);
	// empty: no one does.
	OperatorOrg string
	// MetricsAddr is where serve answers GET /metrics for Prometheus, apart
	// from HTTPAddr (env METRICS_ADDR); empty: no metrics.
	MetricsAddr string
	// TrustProxy: every request comes through a proxy that appends the
	// client's address to X-Forwarded-For (env TRUST_PROXY=1).
	TrustProxy bool

	TwilioAccountSID          string
	TwilioAuthToken           string
	TwilioFrom                string
	TwilioMessagingServiceSID string
	TwilioAPIURL              string // a Twilio-compatible API to use instead of Twilio's

	// SMSMPS is the messages-per-second limit of a From number with no limit of
	// its own (default 1, a long code's); 0 lifts it.
	SMSMPS float64
	// Breaker pauses a sender whose provider fails most of its sends
	// (SMS_BREAKER_FAILURE_RATIO, SMS_BREAKER_MIN_SENDS, SMS_BREAKER_WINDOW,
	// SMS_BREAKER_PROBE_INTERVAL); zero values take the scheduler's defaults.
	Breaker scheduler.BreakerConfig
	// AlertWebhookURL is a Slack-compatible incoming webhook told of unusual
	// activity (env ALERT_WEBHOOK_URL); empty: no alerts.
	AlertWebhookURL string
	// JobRescueAfter is how long a job may run before River takes its worker
	// for dead and runs it again (env JOB_RESCUE_AFTER; 0: the scheduler's
	// default, 3 minutes).
	JobRescueAfter time.Duration
}

// loadConfig reads the environment. A NAME_FILE variable names a file whose
// contents (trimmed) are the value of NAME.
func loadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	get := func(name string) string {
		if path := getenv(name + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		return getenv(name)
	}
	c := Config{
		DatabaseURL:               get("DATABASE_URL"),
		ClickHouseURL:             get("CLICKHOUSE_URL"),
		ClickHouseCluster:         get("CLICKHOUSE_CLUSTER"),
		HTTPAddr:                  get("HTTP_ADDR"),
		MetricsAddr:               get("METRICS_ADDR"),
		OperatorOrg:               get("OPERATOR_ORG"),
		PublicURL:                 get("PUBLIC_URL"),
		TwilioAccountSID:          get("TWILIO_ACCOUNT_SID"),
		TwilioAuthToken:           get("TWILIO_AUTH_TOKEN"),
		TwilioFrom:                get("TWILIO_FROM"),
		TwilioMessagingServiceSID: get("TWILIO_MESSAGING_SERVICE_SID"),
		TwilioAPIURL:              get("TWILIO_API_URL"),
		AlertWebhookURL:           get("ALERT_WEBHOOK_URL"),
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	switch v := get("TRUST_PROXY"); v {
	case "", "0", "false":
	case "1", "true":
		c.TrustProxy = true
	default:
		errs = append(errs, fmt.Errorf("TRUST_PROXY %q is not 1 or 0", v))
	}
	c.SMSMPS = 1
	if v := get("SMS_MPS"); v != "" {
		mps, err := strconv.ParseFloat(v, 64)
		if err != nil || mps < 0 {
			errs = append(errs, fmt.Errorf("SMS_MPS %q is not a number of messages per second (0 for no limit)", v))
		}
		c.SMSMPS = mps
	}
	if v := get("SMS_BREAKER_FAILURE_RATIO"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || r > 1 {
			errs = append(errs, fmt.Errorf("SMS_BREAKER_FAILURE_RATIO %q is not a share between 0 and 1, e.g. 0.5", v))
		}
		c.Breaker.FailureRatio = r
	}
	if v := get("SMS_BREAKER_MIN_SENDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			errs = append(errs, fmt.Errorf("SMS_BREAKER_MIN_SENDS %q is not a number of sends from 1 to 1000000", v))
		}
		c.Breaker.MinSends = n
	}
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"SMS_BREAKER_WINDOW", &c.Breaker.Window}, {"SMS_BREAKER_PROBE_INTERVAL", &c.Breaker.ProbeInterval}} {
		if v := get(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur < 100*time.Millisecond || dur > 24*time.Hour {
				errs = append(errs, fmt.Errorf("%s %q is not a duration from 100ms to 24h, e.g. 5s", d.name, v))
			}
			*d.to = dur
		}
	}
	if v := get("JOB_RESCUE_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > 24*time.Hour {
			errs = append(errs, fmt.Errorf("JOB_RESCUE_AFTER %q is not a duration from 1s to 24h, e.g. 3m", v))
		}
		c.JobRescueAfter = d
	}
	return c, errors.Join(errs...)
}

// databaseFlags lets flags override the database URLs.
func (c *Config) databaseFlags(fs *flag.FlagSet) {
	fs.Var(addressFlag{&c.DatabaseURL}, "database-url", "Postgres URL (env DATABASE_URL)")
	fs.Var(addressFlag{&c.ClickHouseURL}, "clickhouse-url", "ClickHouse native URL, clickhouse://host:9000/db (env CLICKHOUSE_URL)")
	fs.StringVar(&c.ClickHouseCluster, "clickhouse-cluster", c.ClickHouseCluster, "ClickHouse cluster to shard the schema over by organisation (env CLICKHOUSE_CLUSTER)")
}

// addressFlag is a database address flag: its default, from the
// environment, is shown by -h with its password hidden.
type addressFlag struct{ p *string }

func (f addressFlag) String() string {
	if f.p == nil {
		return ""
	}
	return tracking.Redact(*f.p)
}

func (f addressFlag) Set(v string) error {
	*f.p = v
	return nil
}

// serveFlags lets flags override what serve reads.
func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.databaseFlags(fs)
	fs.StringVar(&c.HTTPAddr, "addr", c.HTTPAddr, "address to serve HTTP on (env HTTP_ADDR)")
	fs.StringVar(&c.OperatorOrg, "operator-org", c.OperatorOrg, "slug of the organisation whose admins see River's UI at /admin/jobs (env OPERATOR_ORG); empty: no one")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "address to serve Prometheus metrics on at /metrics, apart from the app (env METRICS_ADDR); empty: none")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "the URL Twilio and reps reach us at (env PUBLIC_URL; default http://localhost plus the port)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take clients' addresses from X-Forwarded-For, as the proxy in front appends them (env TRUST_PROXY=1)")
	fs.StringVar(&c.TwilioAccountSID, "twilio-account-sid", c.TwilioAccountSID, "Twilio account SID (env TWILIO_ACCOUNT_SID); none: the in-app phone simulator")
	fs.StringVar(&c.TwilioFrom, "twilio-from", c.TwilioFrom, "default From number, E.164 (env TWILIO_FROM)")
	fs.StringVar(&c.TwilioMessagingServiceSID, "twilio-messaging-service-sid", c.TwilioMessagingServiceSID, "default messaging service (env TWILIO_MESSAGING_SERVICE_SID)")
	fs.StringVar(&c.TwilioAPIURL, "twilio-api-url", c.TwilioAPIURL, "a Twilio-compatible API base URL, for emulators (env TWILIO_API_URL)")
	fs.Float64Var(&c.SMSMPS, "sms-mps", c.SMSMPS, "messages per second per From number without a limit of its own; 0: none (env SMS_MPS)")
	fs.StringVar(&c.AlertWebhookURL, "alert-webhook-url", c.AlertWebhookURL, "a Slack-compatible incoming webhook told of unusual activity (env ALERT_WEBHOOK_URL); empty: no alerts")
	fs.DurationVar(&c.JobRescueAfter, "job-rescue-after", c.JobRescueAfter, "how long a job may run before it is taken for stuck (its worker dead) and run again; default 3m (env JOB_RESCUE_AFTER)")
}

// requireDatabases checks the database URLs are there and well formed.
func (c Config) requireDatabases(clickhouse bool) error {
	if c.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set: point it at Postgres, e.g. postgres://morsel:morsel@localhost:5432/morsel (make demo sets it up)")
	}
	if clickhouse && c.ClickHouseURL == "" {
		return errors.New("CLICKHOUSE_URL is not set: point it at ClickHouse, e.g. clickhouse://default:@localhost:9000/default (make demo sets it up)")
	}
	return nil
}

// publicURL is PUBLIC_URL, or by default http://localhost with HTTP_ADDR's
// port.
func (c *Config) publicURL() string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	return "http://localhost:" + c.HTTPAddr[strings.LastIndex(c.HTTPAddr, ":")+1:]
}

// validateServe checks what serve needs and fills in defaults.
func (c *Config) validateServe() error {
	if err := c.requireDatabases(true); err != nil {
		return err
	}
	c.PublicURL = c.publicURL()
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("PUBLIC_URL %q is not an http(s) URL", c.PublicURL)
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if c.JobRescueAfter != 0 && (c.JobRescueAfter < time.Second || c.JobRescueAfter > 24*time.Hour) {
		return fmt.Errorf("--job-rescue-after %s is not from 1s to 24h", c.JobRescueAfter)
	}
	if (c.TwilioAccountSID == "") != (c.TwilioAuthToken == "") {
		return errors.New("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together: set both to send through Twilio, or neither for the phone simulator")
	}
	if c.TwilioAccountSID != "" && c.TwilioFrom == "" && c.TwilioMessagingServiceSID == "" {
		return errors.New("with Twilio credentials, set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID: the sender used when an organisation names none")
	}
	if c.TwilioAPIURL != "" {
		if u, err := url.Parse(c.TwilioAPIURL); err != nil || u.Host == "" {
			return fmt.Errorf("TWILIO_API_URL %q is not a URL", c.TwilioAPIURL)
		}
	}
	if c.AlertWebhookURL != "" {
		if u, err := url.Parse(c.AlertWebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("ALERT_WEBHOOK_URL is not an http(s) URL") // the URL is a secret: not echoed
		}
	}
	return nil
}
