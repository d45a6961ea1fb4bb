package migrations

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Cluster mode (CLICKHOUSE_CLUSTER): every table of the migrations becomes a
// Replicated*MergeTree table named <table>_local on each server of the cluster,
// plus a Distributed table with the table's own name, which the queries use.
// Rows are sharded by org_id, so all the rows of an organisation live on one
// shard: FINAL, argMax by version and tombstones see every version of a key
// there, and a join or IN between two tables can run shard by shard on the
// local tables (distributed_product_mode = 'local').
//
// The SQL files are written for one server; clusterRewrite turns each of their
// statements into the statements for the cluster, so that a new migration needs
// no cluster twin. A statement it cannot rewrite is refused by name.

// ShardingKey is the Distributed tables' sharding expression: an organisation's
// rows all go to shard org_id modulo the shards (weighted), so the shard of an
// organisation can be told from its id.
const ShardingKey = "org_id"

// ClusterSettings are the query settings every connection to a cluster sends:
// an insert into a Distributed table returns once every shard has its rows (the
// dashboard reads its writes at once); and a replicated table keeps a block
// inserted again (the outbox resending a batch) as a single server does, rather
// than dropping it as a duplicate: the readers already take one row per key and
// version, and a block dropped on one shard only would make the shards differ.
func ClusterSettings() map[string]any {
	return map[string]any{"insert_distributed_sync": 1, "insert_deduplicate": 0}
}

// ClusterProductMode is the distributed_product_mode a cluster's users profile
// must set: an IN or JOIN over a Distributed table inside a query on a
// Distributed table reads the shard's local table, correct because every table
// is sharded by organisation. It is a string setting, which clickhouse-go cannot
// send to servers older than 19.x (their protocol takes only its integers), so
// it is checked rather than sent.
const ClusterProductMode = "local"

// CheckClusterSettings reports whether conn's session reads as cluster mode
// needs, with an error saying what to set in the servers' users profile.
func CheckClusterSettings(ctx context.Context, conn driver.Conn) error {
	var mode string
	if err := conn.QueryRow(ctx, `SELECT value FROM system.settings WHERE name = 'distributed_product_mode'`).Scan(&mode); err != nil {
		return fmt.Errorf("read clickhouse setting distributed_product_mode: %w", err)
	}
	if mode != ClusterProductMode {
		return fmt.Errorf("clickhouse cluster mode needs distributed_product_mode = '%s' in the users profile of every server (it is '%s'): the reports' IN and JOIN subqueries then read each shard's local tables", ClusterProductMode, mode)
	}
	return nil
}

// clusterTarget names the cluster and the database the migrations run in.
type clusterTarget struct {
	cluster string
	db      string
	// nonce makes each created table's ZooKeeper path unique, so a table
	// created again under a name another one was renamed from does not meet its
	// replicas; it is the same for every server of one statement.
	nonce func() string
}

var (
	reIdent        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	reCreateTable  = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\S+)\s+(.*)$`)
	reAsTable      = regexp.MustCompile(`(?is)^AS\s+(\S+)\s+(.*)$`)
	reEngine       = regexp.MustCompile(`(?is)^ENGINE\s*=\s*(\w+)\s*(.*)$`)
	reCreateView   = regexp.MustCompile(`(?is)^CREATE\s+MATERIALIZED\s+VIEW\s+(IF\s+NOT\s+EXISTS\s+)?(\S+)\s+TO\s+(\S+)\s+AS\s+(SELECT\s.*)$`)
	reViewSelect   = regexp.MustCompile(`(?is)^(SELECT\s.*?\sFROM\s+)(\w+)(\s.*)?$`)
	reAlter        = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(\S+)\s+(.*)$`)
	reColumnChange = regexp.MustCompile(`(?is)\b(ADD|DROP|MODIFY|RENAME|CLEAR)\s+COLUMN\b`)
	reRename       = regexp.MustCompile(`(?is)^RENAME\s+TABLE\s+(.*)$`)
	reRenamePair   = regexp.MustCompile(`(?is)^\s*(\S+)\s+TO\s+(\S+)\s*$`)
	reDrop         = regexp.MustCompile(`(?is)^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?(\S+)$`)
	reInsert       = regexp.MustCompile(`(?is)^INSERT\s+INTO\s`)
	reOptimize     = regexp.MustCompile(`(?is)^OPTIMIZE\s+TABLE\s+(\S+)(.*)$`)
	reFromJoin     = regexp.MustCompile(`(?i)\b(FROM|JOIN)\b`)
	reOrgColumn    = regexp.MustCompile(`(?i)(^|[(,\s])org_id\s+\w`)
)

// clusterRewrite returns the statements that do on the cluster what stmt does on
// one server, or an error saying why it cannot.
func (c clusterTarget) rewrite(stmt string) ([]string, error) {
	s := strings.TrimSpace(stripComments(stmt))
	switch {
	case reCreateView.MatchString(s):
		return c.createView(reCreateView.FindStringSubmatch(s))
	case reCreateTable.MatchString(s):
		return c.createTable(reCreateTable.FindStringSubmatch(s))
	case reAlter.MatchString(s):
		m := reAlter.FindStringSubmatch(s)
		if err := c.check(m[1]); err != nil {
			return nil, err
		}
		out := []string{fmt.Sprintf("ALTER TABLE %s ON CLUSTER %s %s", c.local(m[1]), c.cluster, m[2])}
		if reColumnChange.MatchString(m[2]) {
			// 18.16 refuses ALTER ... ON CLUSTER of a Distributed table when
			// the shards use internal_replication ("Table isn't replicated, but
			// shard is replicated"): the Distributed table, which holds no rows
			// with synchronous inserts, is made again with the new columns.
			out = append(out, c.dropDistributed(m[1]), c.distributed(m[1]))
		}
		return out, nil
	case reRename.MatchString(s):
		return c.rename(reRename.FindStringSubmatch(s)[1])
	case reDrop.MatchString(s):
		m := reDrop.FindStringSubmatch(s)
		if err := c.check(m[2]); err != nil {
			return nil, err
		}
		// The name is a Distributed table (its local table goes too) or a
		// materialized view (which has no local twin).
		return []string{
			fmt.Sprintf("DROP TABLE IF EXISTS %s ON CLUSTER %s", c.qualified(m[2]), c.cluster),
			fmt.Sprintf("DROP TABLE IF EXISTS %s ON CLUSTER %s", c.local(m[2]), c.cluster),
		}, nil
	case reInsert.MatchString(s):
		// INSERT ... SELECT runs through the Distributed tables, with
		// ClusterSettings: each row goes to its organisation's shard.
		return []string{s}, nil
	case reOptimize.MatchString(s):
		m := reOptimize.FindStringSubmatch(s)
		if err := c.check(m[1]); err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("OPTIMIZE TABLE %s ON CLUSTER %s%s", c.local(m[1]), c.cluster, m[2])}, nil
	}
	return nil, fmt.Errorf("cluster mode knows no rewrite for this statement (CREATE TABLE, CREATE MATERIALIZED VIEW ... TO, ALTER TABLE, RENAME TABLE, DROP TABLE, OPTIMIZE TABLE and INSERT are rewritten): %s", firstLine(s))
}

func (c clusterTarget) createTable(m []string) ([]string, error) {
	name, rest := m[2], m[3]
	if err := c.check(name); err != nil {
		return nil, err
	}
	var body string // the column list in parentheses, or "AS <db>.<other>_local"
	if strings.HasPrefix(rest, "(") {
		end := matchingParen(rest)
		if end < 0 {
			return nil, fmt.Errorf("table %s: unbalanced parentheses in its column list", name)
		}
		body, rest = rest[:end+1], strings.TrimSpace(rest[end+1:])
		if !reOrgColumn.MatchString(body) {
			return nil, fmt.Errorf("table %s has no org_id column: cluster mode shards every table by organisation", name)
		}
	} else if a := reAsTable.FindStringSubmatch(rest); a != nil {
		if err := c.check(a[1]); err != nil {
			return nil, err
		}
		body, rest = "AS "+c.local(a[1]), a[2]
	} else {
		return nil, fmt.Errorf("table %s: expected a column list or AS <table>", name)
	}
	e := reEngine.FindStringSubmatch(rest)
	if e == nil {
		return nil, fmt.Errorf("table %s: cluster mode needs its ENGINE spelled out", name)
	}
	engine, rest := e[1], e[2]
	if !strings.HasSuffix(engine, "MergeTree") || strings.HasPrefix(engine, "Replicated") {
		return nil, fmt.Errorf("table %s: cluster mode replicates *MergeTree engines only, not %s", name, engine)
	}
	args := ""
	if strings.HasPrefix(rest, "(") {
		end := matchingParen(rest)
		if end < 0 {
			return nil, fmt.Errorf("table %s: unbalanced parentheses in ENGINE = %s(...)", name, engine)
		}
		args, rest = strings.TrimSpace(rest[1:end]), strings.TrimSpace(rest[end+1:])
	}
	params := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s_local/%s', '{replica}'", c.db, name, c.nonce())
	if args != "" {
		params += ", " + args
	}
	return []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s ON CLUSTER %s %s ENGINE = Replicated%s(%s) %s",
			c.local(name), c.cluster, body, engine, params, rest),
		c.distributed(name),
	}, nil
}

func (c clusterTarget) createView(m []string) ([]string, error) {
	view, to, sel := m[2], m[3], m[4]
	if err := c.check(view); err != nil {
		return nil, err
	}
	if err := c.check(to); err != nil {
		return nil, err
	}
	// Each shard's view feeds the shard's table from the shard's inserts:
	// rewritten only when it reads one table (no join, no subquery).
	f := reViewSelect.FindStringSubmatch(sel)
	if f == nil || len(reFromJoin.FindAllStringIndex(sel, -1)) != 1 {
		return nil, fmt.Errorf("materialized view %s: cluster mode rewrites a view that reads one table (SELECT ... FROM t [WHERE ...]), not: %s", view, firstLine(sel))
	}
	return []string{fmt.Sprintf("CREATE MATERIALIZED VIEW IF NOT EXISTS %s ON CLUSTER %s TO %s AS %s%s%s",
		c.qualified(view), c.cluster, c.local(to), f[1], c.local(f[2]), f[3])}, nil
}

func (c clusterTarget) rename(list string) ([]string, error) {
	var pairs, names []string
	var targets []string
	for p := range strings.SplitSeq(list, ",") {
		m := reRenamePair.FindStringSubmatch(p)
		if m == nil {
			return nil, fmt.Errorf("RENAME TABLE: expected `a TO b, ...`, not %q", strings.TrimSpace(p))
		}
		if err := c.check(m[1]); err != nil {
			return nil, err
		}
		if err := c.check(m[2]); err != nil {
			return nil, err
		}
		pairs = append(pairs, c.local(m[1])+" TO "+c.local(m[2]))
		for _, n := range m[1:3] {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		targets = append(targets, m[2])
	}
	// The local tables are renamed; a Distributed table names its local table,
	// so those of every name involved are made again over the new locals.
	out := []string{fmt.Sprintf("RENAME TABLE %s ON CLUSTER %s", strings.Join(pairs, ", "), c.cluster)}
	for _, n := range names {
		out = append(out, c.dropDistributed(n))
	}
	for _, n := range targets {
		out = append(out, c.distributed(n))
	}
	return out, nil
}

func (c clusterTarget) check(name string) error {
	if !reIdent.MatchString(name) {
		return fmt.Errorf("cluster mode needs plain table names (no database, no quotes), not %s", name)
	}
	return nil
}

func (c clusterTarget) qualified(name string) string { return c.db + "." + name }
func (c clusterTarget) local(name string) string     { return c.db + "." + name + "_local" }

func (c clusterTarget) distributed(name string) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s ON CLUSTER %s AS %s ENGINE = Distributed(%s, %s, %s_local, %s)",
		c.qualified(name), c.cluster, c.local(name), c.cluster, c.db, name, ShardingKey)
}

func (c clusterTarget) dropDistributed(name string) string {
	return fmt.Sprintf("DROP TABLE IF EXISTS %s ON CLUSTER %s", c.qualified(name), c.cluster)
}

// migrationsTable is the table of applied steps on a cluster: one replica on
// every server (a path without the shard), so any server answers the version.
func (c clusterTarget) migrationsTable() string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s ON CLUSTER %s (
		version    UInt32,
		name       String,
		applied_at DateTime('UTC')
	) ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/%s/morsel_migrations', '{shard}-{replica}') ORDER BY version`,
		c.qualified("morsel_migrations"), c.cluster, c.db)
}

// timeNonce is the default nonce: the time in nanoseconds.
func timeNonce() string { return fmt.Sprint(time.Now().UnixNano()) }

// stripComments removes "--" comments outside string literals.
func stripComments(s string) string {
	var b strings.Builder
	inString := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case inString:
			b.WriteByte(ch)
			if ch == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if ch == '\'' {
				inString = false
			}
		case ch == '\'':
			inString = true
			b.WriteByte(ch)
		case ch == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// matchingParen returns the index of the parenthesis closing the one s starts
// with, skipping string literals, or -1.
func matchingParen(s string) int {
	depth, inString := 0, false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case inString:
			if ch == '\\' {
				i++
			} else if ch == '\'' {
				inString = false
			}
		case ch == '\'':
			inString = true
		case ch == '(':
			depth++
		case ch == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 120 {
		line = line[:120] + "..."
	}
	return line
}
