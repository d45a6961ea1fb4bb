package lessons

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/morselhq/morsel/lessons/errs"
	"github.com/morselhq/morsel/tracking"
)

// RepStatus says whether a rep still receives training.
type RepStatus string

// The rep statuses. A removed rep keeps their history but receives nothing more.
const (
	RepActive  RepStatus = "active"
	RepRemoved RepStatus = "removed"
)

// Rep is a sales recruit who is trained by SMS.
type Rep struct {
	ID         int64
	OrgID      int64
	TeamID     int64 // 0 when in no team
	Team       string
	Name       string
	Phone      string // E.164
	Email      string
	TimeZone   string // IANA
	Status     RepStatus
	OptedOutAt *time.Time // set while the rep has texted STOP
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created      int `json:"created"`
	Updated      int `json:"updated"`
	TeamsCreated int `json:"teams_created"`
}

// ImportReps creates or updates reps by phone number, all in one transaction:
// either every rep is stored or none is. Teams named but missing are created.
// A rep who had been removed and is imported again becomes active again. A
// rep whose number could not take SMS (21211, 21614, 30006), imported with
// the same email and another number, gets that number, and their courses go
// on from the step that did not go out.
func (s *Store) ImportReps(ctx context.Context, orgID int64, reps []RepInput) (ImportResult, error) {
	var res ImportResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, _, err = s.importReps(ctx, tx, orgID, reps)
		return err
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// importReps is ImportReps inside tx; it also returns the reps' ids, in the
// order given.
func (s *Store) importReps(ctx context.Context, tx pgx.Tx, orgID int64, reps []RepInput) (ImportResult, []int64, error) {
	var res ImportResult
	if len(reps) == 0 {
		return res, nil, errs.InvalidInput("there are no reps to import", nil)
	}
	n := len(reps)
	names, phones, emails, zones, teams := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]*int64, n)
	var teamNames []string
	seen := map[string]bool{}
	for _, r := range reps {
		if r.Team != "" && !seen[r.Team] {
			seen[r.Team] = true
			teamNames = append(teamNames, r.Team)
		}
	}
	now := s.Now()
	var inserted bool
	var repID int64
	teamIDs, created, err := ensureTeams(ctx, tx, orgID, teamNames)
	if err != nil {
		return res, nil, err
	}
	res.TeamsCreated = created
	for i, r := range reps {
		names[i], phones[i], emails[i], zones[i] = r.Name, r.Phone, r.Email, r.TimeZone
		if id, ok := teamIDs[r.Team]; ok {
			teams[i] = &id
		}
	}
	// A rep whose number could not take SMS, imported with their email and
	// a new number, has the number corrected; their courses continue below.
	rows, err := tx.Query(ctx, `
		UPDATE reps r SET phone = u.phone, phone_invalid_at = NULL, phone_invalid_reason = '', updated_at = $4
		FROM (SELECT DISTINCT ON (email) email, phone FROM unnest($2::text[], $3::text[]) u(email, phone) WHERE email <> '') u
		WHERE r.org_id = $1 AND r.email = u.email AND r.phone <> u.phone AND r.phone_invalid_at IS NOT NULL
			AND NOT EXISTS (SELECT FROM reps o WHERE o.org_id = $1 AND o.phone = u.phone)
		RETURNING r.id`, orgID, emails, phones, now)
	if err != nil {
		return res, nil, dbError(err, "rep")
	}
	corrected, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return res, nil, dbError(err, "rep")
	}
	rows, err = tx.Query(ctx, `
		INSERT INTO reps (org_id, name, phone, email, time_zone, team_id, created_at, updated_at)
		SELECT $1, name, phone, email, tz, team, $7, $7
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY AS u(name, phone, email, tz, team, i)
		ORDER BY i
		ON CONFLICT (org_id, phone) DO UPDATE SET
			name = excluded.name, email = excluded.email, time_zone = excluded.time_zone,
			team_id = excluded.team_id, status = 'active', updated_at = excluded.updated_at
		RETURNING xmax = 0, id`,
		orgID, names, phones, emails, zones, teams, now)
	if err != nil {
		return res, nil, dbError(err, "rep")
	}
	ids := make([]int64, 0, len(reps))
	_, err = pgx.ForEachRow(rows, []any{&inserted, &repID}, func() error {
		if inserted {
			res.Created++
		} else {
			res.Updated++
		}
		ids = append(ids, repID)
		return nil
	})
	if err != nil {
		return res, nil, dbError(err, "rep")
	}
	if err := appendRepFacts(ctx, tx, now, ids...); err != nil {
		return res, nil, err
	}
	for _, id := range corrected {
		steps, err := s.resume(ctx, tx, id, now)
		if err != nil {
			return res, nil, err
		}
		if err := s.queueSteps(ctx, tx, steps); err != nil {
			return res, nil, err
		}
	}
	return res, ids, nil
}

// RepFilter narrows a rep listing.
type RepFilter struct {
	TeamID  int64     // 0: every team
	Status  RepStatus // "": every status
	AfterID int64     // for paging: reps with a larger id
	Limit   int       // page size: 0 or less means 100, more than 1,000 means 1,000
}

const repColumns = `r.id, r.org_id, coalesce(r.team_id, 0), coalesce(t.name, ''), r.name, r.phone, r.email,
	r.time_zone, r.status, r.opted_out_at, r.created_at, r.updated_at`

func scanRep(row pgx.Row) (Rep, error) {
	var r Rep
	err := row.Scan(&r.ID, &r.OrgID, &r.TeamID, &r.Team, &r.Name, &r.Phone, &r.Email,
		&r.TimeZone, &r.Status, &r.OptedOutAt, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// Reps lists the organisation's reps by id.
func (s *Store) Reps(ctx context.Context, orgID int64, f RepFilter) ([]Rep, error) {
	var c conditions
	c.and("r.org_id = $%d", orgID)
	if f.TeamID != 0 {
		c.and("r.team_id = $%d", f.TeamID)
	}
	if f.Status != "" {
		c.and("r.status = $%d", f.Status)
	}
	if f.AfterID != 0 {
		c.and("r.id > $%d", f.AfterID)
	}
	limit := c.param(pageLimit(f.Limit))
	rows, err := s.pool.Query(ctx, `SELECT `+repColumns+` FROM reps r LEFT JOIN teams t ON t.id = r.team_id
		WHERE `+c.sql()+fmt.Sprintf(` ORDER BY r.id LIMIT $%d`, limit), c.args...)
	if err != nil {
		return nil, fmt.Errorf("list reps: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Rep, error) { return scanRep(r) })
}

// Rep returns one of the organisation's reps, or NotFound.
func (s *Store) Rep(ctx context.Context, orgID, id int64) (Rep, error) {
	r, err := scanRep(s.pool.QueryRow(ctx, `SELECT `+repColumns+` FROM reps r LEFT JOIN teams t ON t.id = r.team_id
		WHERE r.org_id = $1 AND r.id = $2`, orgID, id))
	return r, dbError(err, fmt.Sprintf("rep %d", id))
}

// RemoveRep marks a rep removed: their history stays, and nothing more is sent.
func (s *Store) RemoveRep(ctx context.Context, orgID, id int64) (Rep, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		tag, err := tx.Exec(ctx, `UPDATE reps SET status = 'removed', updated_at = $3 WHERE org_id = $1 AND id = $2`, orgID, id, now)
		if err != nil {
			return dbError(err, fmt.Sprintf("rep %d", id))
		}
		if tag.RowsAffected() == 0 {
			return errs.Errorf(errs.NotFound, "rep %d not found", id)
		}
		return appendRepFacts(ctx, tx, now, id)
	})
	if err != nil {
		return Rep{}, err
	}
	return s.Rep(ctx, orgID, id)
}

// SetOptedOut records that the rep opted out of messages (optedOut) or back in.
// What was scheduled for an opted-out rep is cancelled when its time comes.
func (s *Store) SetOptedOut(ctx context.Context, orgID, id int64, optedOut bool) (Rep, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		tag, err := tx.Exec(ctx, `
			UPDATE reps SET opted_out_at = CASE WHEN $3 THEN coalesce(opted_out_at, $4) END, updated_at = $4
			WHERE org_id = $1 AND id = $2`, orgID, id, optedOut, now)
		if err != nil {
			return dbError(err, "rep")
		}
		if tag.RowsAffected() == 0 {
			return errs.Errorf(errs.NotFound, "rep %d not found", id)
		}
		kind := tracking.KindOptedIn
		if optedOut {
			kind = tracking.KindOptedOut
		}
		if err := tracking.Append(ctx, tx, optEvent(kind, orgID, id, now)); err != nil {
			return err
		}
		return appendRepFacts(ctx, tx, now, id)
	})
	if err != nil {
		return Rep{}, err
	}
	return s.Rep(ctx, orgID, id)
}

// RepByPhone returns the organisation's rep with the E.164 phone, or NotFound.
func (s *Store) RepByPhone(ctx context.Context, orgID int64, phone string) (Rep, error) {
	r, err := scanRep(s.pool.QueryRow(ctx, `SELECT `+repColumns+` FROM reps r LEFT JOIN teams t ON t.id = r.team_id
		WHERE r.org_id = $1 AND r.phone = $2`, orgID, phone))
	return r, dbError(err, fmt.Sprintf("rep with phone %s", phone))
}
