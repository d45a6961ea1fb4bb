//go:build unix

package twilioemu_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morselhq/morsel/scheduler/twilioemu"
)

// The benchmarks report msgs/s, which depends on what else the machine runs,
// and cpu-µs/msg, the CPU time of the whole process (client, emulator and
// loopback) per message, which does not: 2 idle cores give about
// 2e6 / cpu-µs/msg messages a second.

// BenchmarkCreateMessage sends with the real twilio-go client from parallel
// goroutines, callbacks off, as `morsel bench sms` does.
func BenchmarkCreateMessage(b *testing.B) {
	bb := setup(b, twilioemu.Options{DisableCallbacks: true})
	params := sms(rep, "Rep 3 of 5: name one objection you heard this week.")
	runParallel(b, func() error {
		_, err := bb.api.CreateMessage(params)
		return err
	})
}

// BenchmarkCreateMessageRawHTTP posts a prepared form with net/http alone:
// what the emulator costs without twilio-go's encoding and decoding.
func BenchmarkCreateMessageRawHTTP(b *testing.B) {
	emu := twilioemu.New(twilioemu.Options{DisableCallbacks: true})
	if err := emu.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(emu.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	endpoint := emu.URL() + "/2010-04-01/Accounts/" + emu.AccountSID() + "/Messages.json"
	form := url.Values{"To": {rep}, "From": {sender}, "Body": {"Rep 3 of 5: name one objection you heard this week."}}.Encode()
	runParallel(b, func() error {
		req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form))
		if err != nil {
			return err
		}
		req.SetBasicAuth(emu.AccountSID(), emu.AuthToken())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// runParallel runs send b.N times from 4 goroutines a core and reports
// msgs/s and cpu-µs/msg.
func runParallel(b *testing.B, send func() error) {
	b.SetParallelism(4)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := send(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
}

// cpuTime returns the user and system CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
