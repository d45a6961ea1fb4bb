package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// RepRow is a rep as the reports see them: the ClickHouse reps dimension, one
// row per version, which reports join to the events by rep_id.
type RepRow struct {
	OrgID  int64
	RepID  int64
	TeamID int64  // 0: in no team
	Status string // "active" or "removed", as lessons.RepStatus
	// Version orders a rep's rows: the newest wins. Use the rep's updated_at
	// in ns, so that a sync repeated, or one of an older state arriving late,
	// never replaces a newer one. 0: the time of writing, in ns.
	Version uint64
}

// insertReps spells out the columns: ClickHouse 18.16 needs them.
const insertReps = `INSERT INTO reps (org_id, rep_id, team_id, status, version, deleted)`

// SyncReps writes the reps' current state to ClickHouse as new versions of
// their rows, so that a report joining events to the newest row of each rep
// (argMax(..., version) grouped by rep_id) counts a rep moved to another team
// under the new team, and a removed rep as removed, the moment it returns.
// Call it after the Postgres change commits (a rep import, a removal, a team
// change) with the rows as committed; if it fails, calling it again with the
// same rows is safe. Rows are never deleted: a removed rep keeps a row with
// status "removed", and reports filter on the status.
func SyncReps(ctx context.Context, ch driver.Conn, reps []RepRow) error {
	if len(reps) == 0 {
		return nil
	}
	now := uint64(time.Now().UnixNano())
	batch, err := ch.PrepareBatch(ctx, insertReps)
	if err != nil {
		return fmt.Errorf("sync reps to clickhouse: %w", err)
	}
	for _, r := range reps {
		version := r.Version
		if version == 0 {
			version = now
		}
		if err := batch.Append(uint64(r.OrgID), uint64(r.RepID), uint64(r.TeamID), r.Status, version, uint8(0)); err != nil {
			batch.Abort()
			return fmt.Errorf("sync reps to clickhouse: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("sync %d reps to clickhouse: %w", len(reps), err)
	}
	return nil
}
