package main

import (
	"context"
	"fmt"
	neturl "net/url"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/morselhq/morsel/migrations"
	"github.com/morselhq/morsel/tracking"
)

// openClickHouseCluster opens CLICKHOUSE_URL (one server of the cluster) with
// the settings cluster mode needs on every query, and checks the one it cannot
// send (distributed_product_mode, set in the servers' users profile).
func openClickHouseCluster(ctx context.Context, rawURL string) (driver.Conn, error) {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("CLICKHOUSE_URL %s is not a URL", tracking.Redact(rawURL))
	}
	q := u.Query()
	for k, v := range migrations.ClusterSettings() {
		q.Set(k, fmt.Sprint(v))
	}
	u.RawQuery = q.Encode()
	conn, err := tracking.OpenClickHouse(ctx, u.String())
	if err != nil {
		return nil, err
	}
	if err := migrations.CheckClusterSettings(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}
