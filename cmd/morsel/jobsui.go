package main

import (
	"context"
	"fmt"
	"net/http"

	"riverqueue.com/riverui"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/scheduler"
)

// jobsUIPrefix is where serve mounts River's UI.
const jobsUIPrefix = "/admin/jobs"

// jobsUI builds River's own UI on the scheduler's client, for the admins of
// the operator organisation (cfg.OperatorOrg), and returns it with that
// organisation's id; with no operator organisation, neither. The UI's
// background work runs until ctx ends.
func jobsUI(ctx context.Context, e *env, cfg Config, store *lessons.Store, sched *scheduler.Scheduler) (http.Handler, int64, error) {
	if cfg.OperatorOrg == "" {
		return nil, 0, nil
	}
	org, err := store.OrgBySlug(ctx, cfg.OperatorOrg)
	if err != nil {
		return nil, 0, fmt.Errorf("OPERATOR_ORG %q: %w", cfg.OperatorOrg, err)
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(sched.Client(), nil),
		Logger:    scheduler.WarningsOnly(e.log),
		Prefix:    jobsUIPrefix,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("river UI: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, 0, fmt.Errorf("start the river UI: %w", err)
	}
	return h, org.ID, nil
}
