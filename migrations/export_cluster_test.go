package migrations

// ClusterRewrite is clusterTarget.rewrite with a fixed nonce, for tests.
func ClusterRewrite(cluster, db, stmt string) ([]string, error) {
	return clusterTarget{cluster: cluster, db: db, nonce: func() string { return "N" }}.rewrite(stmt)
}

// PlanCluster plans a step for a cluster, for tests.
func PlanCluster(s Step) error {
	_, err := planStep(s, &clusterTarget{cluster: "c", db: "d", nonce: func() string { return "N" }})
	return err
}
