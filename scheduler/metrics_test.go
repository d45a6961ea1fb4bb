package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
)

func TestJobOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{nil, "completed"},
		{river.JobCancel(errors.New("no such message")), "cancelled"},
		{fmt.Errorf("send: %w", river.JobCancel(errors.New("21610"))), "cancelled"},
		{river.JobSnooze(time.Minute), "snoozed"},
		{errors.New("provider down"), "failed"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, jobOutcome(tt.err), "%v", tt.err)
	}
}

func TestSendMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, nil)
	require.NoError(t, err)
	m.sent()
	m.sent()
	m.failed(&SendError{Kind: Permanent, Code: 21610})
	m.failed(&SendError{Kind: Transient})
	require.NoError(t, testutil.CollectAndCompare(m.smsSent, strings.NewReader(`
# HELP morsel_sms_sent_total Messages the SMS provider accepted.
# TYPE morsel_sms_sent_total counter
morsel_sms_sent_total 2
`)))
	require.Equal(t, 1.0, testutil.ToFloat64(m.smsFailures.WithLabelValues("21610", "permanent")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.smsFailures.WithLabelValues("0", "transient")))
	var none *Metrics
	none.sent() // a nil *Metrics counts nothing and does not panic
	none.failed(&SendError{})
}
