package lessons

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/morselhq/morsel/lessons/errs"
)

// Org is a customer organisation: everything else belongs to one.
type Org struct {
	ID   int64
	Slug string
	Name string
	// SMSFrom or SMSMessagingServiceSID is the organisation's SMS sender; both
	// empty means the deployment's TWILIO_* defaults.
	SMSFrom                string
	SMSMessagingServiceSID string
	HelpText               string // sent in answer to HELP
	// AdvancedOptOut: Twilio Advanced Opt-Out answers STOP, START and HELP
	// itself, so Morsel records them but sends no second confirmation.
	AdvancedOptOut bool
	// SegmentPrice is what one SMS segment costs the organisation, for the
	// course editor's cost figures.
	SegmentPrice Price
	// TimeZone is an IANA zone: where the reports' weeks and months start.
	// "" on creation: UTC.
	TimeZone  string
	CreatedAt time.Time
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Validate reports what is wrong with an organisation about to be created.
func (o Org) Validate() error {
	var d []errs.Detail
	if !slugPattern.MatchString(o.Slug) {
		d = append(d, errs.Detail{Path: "slug", Message: fmt.Sprintf("%q must be 1-63 lower-case letters, digits or dashes", o.Slug)})
	}
	if n := len(strings.TrimSpace(o.Name)); n == 0 || n > 200 {
		d = append(d, errs.Detail{Path: "name", Message: "must be 1-200 characters"})
	}
	if o.SMSFrom != "" && o.SMSMessagingServiceSID != "" {
		d = append(d, errs.Detail{Path: "sms_from", Message: "give a From number or a messaging service, not both"})
	}
	if o.TimeZone != "" {
		if _, err := Location(o.TimeZone); err != nil {
			d = append(d, errs.Detail{Path: "time_zone", Message: fmt.Sprintf("%q is not an IANA time zone such as Europe/London", o.TimeZone)})
		}
	}
	if d != nil {
		return errs.InvalidInput("the organisation is not valid", d)
	}
	return nil
}

// CreateOrg stores a new organisation.
func (s *Store) CreateOrg(ctx context.Context, o Org) (Org, error) {
	if err := o.Validate(); err != nil {
		return Org{}, err
	}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO organisations (slug, name, sms_from, sms_messaging_service_sid, help_text, twilio_advanced_opt_out, time_zone)
		VALUES ($1, $2, nullif($3, ''), nullif($4, ''), coalesce(nullif($5, ''), 'Morsel training messages. Reply STOP to opt out.'), $6,
			coalesce(nullif($7, ''), 'UTC'))
		RETURNING id, help_text, created_at, sms_segment_price_micros, sms_currency, time_zone`,
		o.Slug, strings.TrimSpace(o.Name), o.SMSFrom, o.SMSMessagingServiceSID, o.HelpText, o.AdvancedOptOut, o.TimeZone,
	).Scan(&o.ID, &o.HelpText, &o.CreatedAt, &o.SegmentPrice.Micros, &o.SegmentPrice.Currency, &o.TimeZone)
	if err != nil {
		return Org{}, dbError(err, fmt.Sprintf("organisation %q", o.Slug))
	}
	return o, nil
}

const orgColumns = `id, slug, name, coalesce(sms_from, ''), coalesce(sms_messaging_service_sid, ''), help_text,
	twilio_advanced_opt_out, created_at, sms_segment_price_micros, sms_currency, time_zone`

func scanOrg(row pgx.Row) (Org, error) {
	var o Org
	err := row.Scan(&o.ID, &o.Slug, &o.Name, &o.SMSFrom, &o.SMSMessagingServiceSID, &o.HelpText, &o.AdvancedOptOut, &o.CreatedAt,
		&o.SegmentPrice.Micros, &o.SegmentPrice.Currency, &o.TimeZone)
	return o, err
}

// SetOrgTimeZone changes where the organisation's reports' weeks and months
// start; zone is an IANA name.
func (s *Store) SetOrgTimeZone(ctx context.Context, orgID int64, zone string) error {
	if _, err := Location(zone); err != nil || zone == "" {
		return errs.InvalidInput("the time zone is not valid", []errs.Detail{{Path: "time_zone",
			Message: fmt.Sprintf("%q is not an IANA time zone such as Europe/London", zone)}})
	}
	tag, err := s.pool.Exec(ctx, `UPDATE organisations SET time_zone = $2 WHERE id = $1`, orgID, zone)
	if err != nil {
		return dbError(err, "organisation")
	}
	if tag.RowsAffected() == 0 {
		return errs.Errorf(errs.NotFound, "organisation %d not found", orgID)
	}
	return nil
}

// OrgLocation is the organisation's time zone, loaded (UTC if it has none
// that loads).
func (s *Store) OrgLocation(ctx context.Context, orgID int64) (*time.Location, error) {
	var zone string
	if err := s.pool.QueryRow(ctx, `SELECT time_zone FROM organisations WHERE id = $1`, orgID).Scan(&zone); err != nil {
		return nil, dbError(err, "organisation")
	}
	if loc, err := Location(zone); err == nil {
		return loc, nil
	}
	return time.UTC, nil
}

// OrgBySlug returns the organisation with the slug, or a NotFound error.
func (s *Store) OrgBySlug(ctx context.Context, slug string) (Org, error) {
	o, err := scanOrg(s.pool.QueryRow(ctx, `SELECT `+orgColumns+` FROM organisations WHERE slug = $1`, slug))
	return o, dbError(err, fmt.Sprintf("organisation %q", slug))
}

// Org returns the organisation with the id, or a NotFound error.
func (s *Store) Org(ctx context.Context, id int64) (Org, error) {
	o, err := scanOrg(s.pool.QueryRow(ctx, `SELECT `+orgColumns+` FROM organisations WHERE id = $1`, id))
	return o, dbError(err, "organisation")
}

// Role is what a user may do.
type Role string

// The roles.
const (
	RoleAdmin   Role = "admin"   // everything in the organisation
	RoleTrainer Role = "trainer" // authors courses
	RoleManager Role = "manager" // sees the reps of their teams
)

// User is a person who signs in: an admin, a trainer or a manager.
type User struct {
	ID                 int64
	OrgID              int64
	Name               string
	Email              string
	Role               Role
	MustChangePassword bool
	Teams              []string // the teams a manager manages, by name
	TeamIDs            []int64  // the same teams' ids, in the same order (set by SessionUser)
	CreatedAt          time.Time
}

// NewUser is what creating a user needs.
type NewUser struct {
	Name  string
	Email string
	Role  Role
	Teams []string // for managers: created if missing
}

func (u NewUser) validate() error {
	var d []errs.Detail
	if n := len(strings.TrimSpace(u.Name)); n == 0 || n > 200 {
		d = append(d, errs.Detail{Path: "name", Message: "must be 1-200 characters"})
	}
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
		d = append(d, errs.Detail{Path: "email", Message: fmt.Sprintf("%q is not an email address", u.Email)})
	}
	switch u.Role {
	case RoleAdmin, RoleTrainer, RoleManager:
	default:
		d = append(d, errs.Detail{Path: "role", Message: fmt.Sprintf("%q is not one of admin, trainer, manager", u.Role)})
	}
	if len(u.Teams) > 0 && u.Role != RoleManager {
		d = append(d, errs.Detail{Path: "team", Message: "only managers have teams"})
	}
	if d != nil {
		return errs.InvalidInput("the user is not valid", d)
	}
	return nil
}

// CreateUser stores a user with a fresh one-time password, which it returns:
// the user must change it at first sign-in.
func (s *Store) CreateUser(ctx context.Context, orgID int64, nu NewUser) (User, string, error) {
	nu.Email = strings.ToLower(strings.TrimSpace(nu.Email))
	if err := nu.validate(); err != nil {
		return User{}, "", err
	}
	password := randomToken(10)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.passwordCost)
	if err != nil {
		return User{}, "", fmt.Errorf("hash password: %w", err)
	}
	u := User{OrgID: orgID, Name: strings.TrimSpace(nu.Name), Email: nu.Email, Role: nu.Role, MustChangePassword: true, Teams: nu.Teams}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO users (org_id, name, email, role, password_hash)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`,
			orgID, u.Name, u.Email, u.Role, string(hash)).Scan(&u.ID, &u.CreatedAt)
		if err != nil {
			return dbError(err, fmt.Sprintf("user %q", u.Email))
		}
		teams, _, err := ensureTeams(ctx, tx, orgID, nu.Teams)
		if err != nil {
			return err
		}
		for _, id := range teams {
			if _, err := tx.Exec(ctx, `INSERT INTO team_managers (org_id, team_id, user_id) VALUES ($1, $2, $3)`, orgID, id, u.ID); err != nil {
				return dbError(err, "team manager")
			}
		}
		return nil
	})
	if err != nil {
		return User{}, "", err
	}
	return u, password, nil
}

// Authenticate returns the user with the email and password, or an
// Unauthorized error that does not say which of the two was wrong.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	var u User
	var hash string
	err := s.pool.QueryRow(ctx, `
		SELECT id, org_id, name, email, role, must_change_password, created_at, password_hash
		FROM users WHERE email = $1`, strings.ToLower(strings.TrimSpace(email))).
		Scan(&u.ID, &u.OrgID, &u.Name, &u.Email, &u.Role, &u.MustChangePassword, &u.CreatedAt, &hash)
	if err != nil && !noRows(err) {
		return User{}, fmt.Errorf("find user: %w", err)
	}
	if noRows(err) {
		hash = "$2a$10$invalidinvalidinvalidinvalidinvalidinvalidinvalidinval" // same work either way
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || err != nil {
		return User{}, errs.Errorf(errs.Unauthorized, "wrong email or password")
	}
	return u, nil
}

// Team is a group of reps with their managers.
type Team struct {
	ID       int64
	OrgID    int64
	Name     string
	RepCount int
}

// Teams lists the organisation's teams by name, with their active rep counts.
func (s *Store) Teams(ctx context.Context, orgID int64) ([]Team, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT t.id, t.org_id, t.name, count(r.id)
		FROM teams t LEFT JOIN reps r ON r.team_id = t.id AND r.status = 'active'
		WHERE t.org_id = $1 GROUP BY t.id ORDER BY t.name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Team, error) {
		var t Team
		return t, r.Scan(&t.ID, &t.OrgID, &t.Name, &t.RepCount)
	})
}

// CreateTeam stores a new team.
func (s *Store) CreateTeam(ctx context.Context, orgID int64, name string) (Team, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > repTeamMax {
		return Team{}, errs.InvalidInput("the team is not valid", []errs.Detail{{Path: "name", Message: fmt.Sprintf("must be 1-%d characters", repTeamMax)}})
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return Team{}, errs.InvalidInput("the team is not valid", []errs.Detail{{Path: "name",
			Message: "has a control character (a NUL, a line break, a tab); a team's name is one line of text"}})
	}
	t := Team{OrgID: orgID, Name: name}
	err := s.pool.QueryRow(ctx, `INSERT INTO teams (org_id, name) VALUES ($1, $2) RETURNING id`, orgID, name).Scan(&t.ID)
	return t, dbError(err, fmt.Sprintf("team %q", name))
}

// ensureTeams returns the ids of the named teams, creating those that do not
// exist, and how many it created.
func ensureTeams(ctx context.Context, tx pgx.Tx, orgID int64, names []string) (map[string]int64, int, error) {
	ids := make(map[string]int64, len(names))
	if len(names) == 0 {
		return ids, 0, nil
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO teams (org_id, name) SELECT $1, n FROM unnest($2::text[]) n
		ON CONFLICT (org_id, name) DO NOTHING`, orgID, names)
	if err != nil {
		return nil, 0, dbError(err, "team")
	}
	rows, err := tx.Query(ctx, `SELECT name, id FROM teams WHERE org_id = $1 AND name = ANY($2)`, orgID, names)
	if err != nil {
		return nil, 0, fmt.Errorf("find teams: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var id int64
		if err := rows.Scan(&name, &id); err != nil {
			return nil, 0, err
		}
		ids[name] = id
	}
	return ids, int(tag.RowsAffected()), rows.Err()
}

// APIKey is an organisation's key to the JSON API. Only its hash is stored.
type APIKey struct {
	ID         int64
	OrgID      int64
	Name       string
	Prefix     string // the key's first characters, to tell keys apart
	CreatedAt  time.Time
	LastUsedAt *time.Time // to the minute; nil: never used
	RevokedAt  *time.Time
}

const apiKeyPrefix = "mk_"

// CreateAPIKey makes a new key for the organisation and returns it with the
// secret, which is shown once and never stored.
func (s *Store) CreateAPIKey(ctx context.Context, orgID int64, name string) (APIKey, string, error) {
	name = strings.TrimSpace(name)
	if n := len(name); n == 0 || n > 100 {
		return APIKey{}, "", errs.InvalidInput("the API key is not valid", []errs.Detail{{Path: "name", Message: "must be 1-100 characters"}})
	}
	secret := apiKeyPrefix + randomToken(32)
	sum := sha256.Sum256([]byte(secret))
	k := APIKey{OrgID: orgID, Name: name, Prefix: secret[:len(apiKeyPrefix)+6]}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO api_keys (org_id, name, prefix, hash) VALUES ($1, $2, $3, $4) RETURNING id, created_at`,
		orgID, name, k.Prefix, sum[:]).Scan(&k.ID, &k.CreatedAt)
	if err != nil {
		return APIKey{}, "", dbError(err, "API key")
	}
	return k, secret, nil
}

// OrgForAPIKey returns the organisation a key belongs to, or Unauthorized.
func (s *Store) OrgForAPIKey(ctx context.Context, secret string) (int64, error) {
	orgID, _, err := s.APIKeyOwner(ctx, secret)
	return orgID, err
}

// APIKeyOwner returns the organisation a key belongs to and the key's name
// (who acts with it, for the record), or Unauthorized.
func (s *Store) APIKeyOwner(ctx context.Context, secret string) (orgID int64, name string, err error) {
	if !strings.HasPrefix(secret, apiKeyPrefix) {
		return 0, "", errs.Errorf(errs.Unauthorized, "the API key is not valid")
	}
	sum := sha256.Sum256([]byte(secret))
	// The use is recorded at most once a minute: most calls write nothing.
	err = s.pool.QueryRow(ctx, `
		WITH k AS (SELECT id, org_id, name, last_used_at FROM api_keys WHERE hash = $1 AND revoked_at IS NULL),
		used AS (UPDATE api_keys a SET last_used_at = $2 FROM k
			WHERE a.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < $2::timestamptz - interval '1 minute'))
		SELECT org_id, name FROM k`, sum[:], s.Now()).Scan(&orgID, &name)
	if noRows(err) {
		return 0, "", errs.Errorf(errs.Unauthorized, "the API key is not valid")
	}
	if err != nil {
		return 0, "", fmt.Errorf("look up API key: %w", err)
	}
	return orgID, name, nil
}

// APIKeys lists the organisation's API keys, revoked ones too, newest first.
func (s *Store) APIKeys(ctx context.Context, orgID int64) ([]APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, org_id, name, prefix, created_at, last_used_at, revoked_at
		FROM api_keys WHERE org_id = $1 ORDER BY id DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIKey, error) {
		var k APIKey
		return k, r.Scan(&k.ID, &k.OrgID, &k.Name, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
	})
}

// RevokeAPIKey ends one of the organisation's keys at once: the next request
// with it is refused. NotFound for a key it does not have; revoking twice
// keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, id int64) (APIKey, error) {
	var k APIKey
	err := s.pool.QueryRow(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE org_id = $1 AND id = $2
		RETURNING id, org_id, name, prefix, created_at, last_used_at, revoked_at`, orgID, id, s.Now()).
		Scan(&k.ID, &k.OrgID, &k.Name, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
	if err != nil {
		return APIKey{}, dbError(err, fmt.Sprintf("API key %d", id))
	}
	return k, nil
}

// randomToken returns n random bytes as lower-case base32, without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// SetPassword sets the password of the user with the email; mustChange makes
// them choose another at their next sign-in.
func (s *Store) SetPassword(ctx context.Context, email, password string, mustChange bool) error {
	if p := checkPassword(password); p != "" {
		return errs.InvalidInput("the password is not valid", []errs.Detail{{Path: "password", Message: p}})
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.passwordCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET password_hash = $2, must_change_password = $3 WHERE email = $1`,
		strings.ToLower(strings.TrimSpace(email)), string(hash), mustChange)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.Errorf(errs.NotFound, "user %q not found", email)
	}
	return nil
}

// TeamManager is a manager of a team.
type TeamManager struct {
	TeamID, UserID int64
	Name           string
}

// TeamManagers lists the managers of the organisation's teams, by team and
// name.
func (s *Store) TeamManagers(ctx context.Context, orgID int64) ([]TeamManager, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT m.team_id, u.id, u.name FROM team_managers m JOIN users u ON u.id = m.user_id
		WHERE u.org_id = $1 ORDER BY m.team_id, u.name, u.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("team managers of organisation %d: %w", orgID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TeamManager, error) {
		var m TeamManager
		return m, r.Scan(&m.TeamID, &m.UserID, &m.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("team managers of organisation %d: %w", orgID, err)
	}
	return out, nil
}
