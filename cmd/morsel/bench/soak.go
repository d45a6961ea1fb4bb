package bench

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/morselhq/morsel/web"
)

// SoakOptions are the options of bench soak.
type SoakOptions struct {
	Duration time.Duration // how long to run the four loads at once
	Warmup   time.Duration // when the memory at start is read; 0: defaultWarmup
	Progress time.Duration // how often to print progress; 0: every 5s
	Round    time.Duration // the longest round of the pings and dashboard loads; 0: 30s
	// MinRounds is how many rounds each load runs at least, past Duration
	// if need be (a short soak on a busy machine sets up slowly); 0: 1.
	MinRounds int
	// HeapProfiles, when set, is a directory where the heap profiles of
	// both processes are written at the end of each memory window
	// (soak-start.pb.gz, serve-end.pb.gz, ...), to compare with
	// `go tool pprof -diff_base`.
	HeapProfiles string
}

// SoakEnvs are the environments of the four loads of bench soak: each runs
// its bench in rounds on a database of its own (the benches' workers run on
// clocks of their own and refuse a database where other River work runs).
// The sms, replies and dashboard benches and their servers run in this
// process; the pings rounds load one `morsel serve` process of their own that
// lives the whole soak, started with PingsServer.Environ.
type SoakEnvs struct {
	SMS, Replies, Pings, Dashboard Env
	PingsServer                    PingsServer
	Demo                           Demo
}

// SoakMemory is the memory of a process at the start (after the warm-up)
// and at the end of the soak, in MiB: its resident memory, and its heap a
// GC found live (this process's /gc/heap/live:bytes; serve's
// go_gc_heap_live_bytes on /metrics, after a GC its pprof handler runs).
//
// The start and end figures are read at rest: the soak lets the rounds in
// flight finish and starts no new one until both processes are read, so
// they hold only what outlives a round, and a leak is what grows between
// them. Growth and flatness are of that heap (the resident memory of a Go
// process also holds garbage not yet collected and memory not yet returned
// to the system). The loaded figures are read under load, each the median
// of 12 samples over the minute after the warm-up and over the last minute
// (a tenth of a short soak): they swing with the batches and requests in
// flight at the moment of each sample.
type SoakMemory struct {
	Process             string  `json:"process"`
	PID                 int     `json:"pid"`
	RSSStartMiB         float64 `json:"rss_start_mib"`
	RSSEndMiB           float64 `json:"rss_end_mib"`
	HeapStartMiB        float64 `json:"heap_start_mib"`
	HeapEndMiB          float64 `json:"heap_end_mib"`
	MemoryGrowthPercent float64 `json:"memory_growth_percent"` // of the heap at rest
	MemoryFlat          bool    `json:"memory_flat"`           // growth within 10 %
	HeapLoadedStartMiB  float64 `json:"heap_loaded_start_mib"`
	HeapLoadedEndMiB    float64 `json:"heap_loaded_end_mib"`
	LoadedGrowthPercent float64 `json:"loaded_growth_percent"`
	HeapProfileStart    string  `json:"heap_profile_start,omitempty"` // at rest
	HeapProfileEnd      string  `json:"heap_profile_end,omitempty"`
}

// SoakFigures are the figures of bench soak, the JSON object --json prints.
type SoakFigures struct {
	DurationSec          float64      `json:"duration_sec"`
	SMS                  int64        `json:"sms"`
	SMSPerSec            float64      `json:"sms_per_sec"`
	Replies              int64        `json:"replies"`
	RepliesPerSec        float64      `json:"replies_per_sec"`
	Pings                int64        `json:"pings"`
	PingsPerSec          float64      `json:"pings_per_sec"`
	DashboardLoads       int64        `json:"dashboard_loads"`
	DashboardLoadsPerSec float64      `json:"dashboard_loads_per_sec"`
	Rounds               int64        `json:"rounds"`
	Errors               int64        `json:"errors"` // failed rounds, lost or refused messages, replies, pings and page loads
	Processes            []SoakMemory `json:"processes"`
}

// soakCounts are what the four loads have done so far.
type soakCounts struct {
	sms, replies, pings, loads, rounds, errors atomic.Int64
}

// Soak runs bench sms, replies, pings and dashboard at once, each in rounds
// until o.Duration has passed, and reports the throughput of each, the errors
// of all, and the memory of its two processes (this one, and the serve the
// pings rounds load) after the warm-up and at the deadline. The rates are
// over the whole run, the last rounds' ends included.
func Soak(ctx context.Context, e Env, envs SoakEnvs, o SoakOptions) (_ *SoakFigures, err error) {
	if o.Warmup <= 0 {
		o.Warmup = defaultWarmup(o.Duration)
	}
	if o.Progress <= 0 {
		o.Progress = 5 * time.Second
	}
	if o.Round <= 0 {
		o.Round = 30 * time.Second
	}
	o.MinRounds = max(o.MinRounds, 1)
	start := time.Now()
	deadline := start.Add(o.Duration)
	// No round starts with less than minRound left: its set-up alone would
	// take longer.
	minRound := min(5*time.Second, o.Duration/2)
	// The server of the pings rounds: one process for the whole soak, so
	// that its memory at the end tells what a long-lived server keeps.
	// Its database is migrated first, as the bench would.
	db, err := openBenchDB(ctx, envs.Pings, "bench soak", 0, nil)
	if err != nil {
		return nil, err
	}
	db.close()
	// It serves its metrics apart, where the soak reads its heap.
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	srv := envs.PingsServer
	srv.Environ = append(slices.Clip(srv.Environ), "METRICS_ADDR="+metricsAddr)
	if o.HeapProfiles != "" {
		// Profiles fine enough to tell what grew in a heap of a few MiB
		// (the default samples one allocation per 512 KiB; finer costs
		// CPU the loads want).
		runtime.MemProfileRate = heapProfileRate
		srv.Environ = append(srv.Environ, "GODEBUG=memprofilerate="+strconv.Itoa(heapProfileRate))
	}
	serve, err := startServeProcess(ctx, envs.Pings, srv)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := serve.stop(); serr != nil {
			fmt.Fprintf(e.Stderr, "bench soak: %v\n", serr)
		} else if err == nil {
			os.Remove(serve.logPath) // kept when the soak fails, for its story
		}
	}()
	var c soakCounts
	var rest sync.RWMutex // held by every round; locked to read the memory at rest
	runRounds := func(kind string, run func(length time.Duration) (done, errs int64, err error)) {
		for n := 0; ; n++ {
			remaining := time.Until(deadline)
			if ctx.Err() != nil || remaining < minRound && n >= o.MinRounds {
				return
			}
			rest.RLock() // no round starts while the memory is read at rest
			done, errs, err := run(min(max(remaining, minRound), o.Round))
			rest.RUnlock()
			c.rounds.Add(1)
			if err != nil {
				c.errors.Add(1)
				fmt.Fprintf(e.Stderr, "bench soak: %s round failed: %v\n", kind, err)
				// A failing load must not spin: wait a moment before the next round.
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
			c.errors.Add(errs)
			switch kind {
			case "sms":
				c.sms.Add(done)
			case "replies":
				c.replies.Add(done)
			case "pings":
				c.pings.Add(done)
			case "dashboard":
				c.loads.Add(done)
			}
		}
	}
	quiet := func(env Env) Env { env.Stdout = discard{}; return env }
	var wg sync.WaitGroup
	loads := map[string]func(time.Duration) (int64, int64, error){
		"sms": func(time.Duration) (int64, int64, error) {
			f, err := SMS(ctx, quiet(envs.SMS), SMSOptions{Reps: 200, Steps: 3, Workers: 100, FetchCooldown: 5 * time.Millisecond, Zones: 1})
			if f == nil {
				return 0, 0, err
			}
			return int64(f.Messages - f.Lost), int64(f.Lost + f.Duplicated + f.OutOfOrder + f.Unrecorded), err
		},
		"replies": func(time.Duration) (int64, int64, error) {
			// A reply's feedback counts as lost after 30 s, not the bench's
			// 10 s: four loads share the machine.
			f, err := Replies(ctx, quiet(envs.Replies), RepliesOptions{Reps: 200, Rate: 100, Timeout: 30 * time.Second})
			if f == nil {
				return 0, 0, err
			}
			return int64(f.Replies - f.Lost - f.Rejected), int64(f.Lost + f.Rejected), err
		},
		"pings": func(length time.Duration) (int64, int64, error) {
			f, err := Pings(ctx, quiet(envs.Pings), envs.PingsServer, PingsOptions{Watchers: 200, Conns: 16, Duration: length,
				MaxPings: 5_000_000, ShipWait: time.Minute, server: serve})
			if f == nil {
				return 0, 0, err
			}
			return f.Acknowledged, f.Rejected - f.Throttled + int64(f.Lost), err
		},
		"dashboard": func(length time.Duration) (int64, int64, error) {
			f, err := Dashboard(ctx, quiet(envs.Dashboard), envs.Demo, DashboardOptions{Reps: 300, Events: 20_000, Managers: 5, Admins: 1,
				Duration: length, Think: 100 * time.Millisecond, EventsPerSec: 50})
			if f == nil {
				return 0, 0, err
			}
			return int64(f.Loads), int64(f.Errors), err
		},
	}
	for kind, run := range loads {
		wg.Add(1)
		go func() { defer wg.Done(); runRounds(kind, run) }()
	}

	// Progress, and the memory: at rest once the warm-up is over (the
	// rounds in flight finish first) and once every load has ended; and
	// under load in two windows, the one after the warm-up and the last
	// before the deadline (while the last rounds still run, so that it
	// compares with the start under the same load). A window's figure is
	// the median of memSamples samples: one reading of a live heap of a few
	// MiB swings by the batches and requests in flight.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	window := min(time.Minute, o.Duration/10)
	every := window / memSamples
	var first, last [2][]memSample // per process, the samples of each window under load
	sample := func(into *[2][]memSample) {
		into[0] = append(into[0], readMemory())
		into[1] = append(into[1], readServeMemory(ctx, serve.pid(), metricsAddr, false))
	}
	var atRest [2][2]memSample // per process, at start and at end
	var profiles [2][2]string  // per process, the heap profile at start and at end
	readAtRest := func(i int) {
		at := []string{"start", "end"}[i]
		if i == 0 {
			fmt.Fprintf(e.Stderr, "bench soak: warm-up over at %s: letting the rounds in flight finish to read the memory at rest\n",
				time.Since(start).Truncate(time.Second))
			rest.Lock()
			defer rest.Unlock()
		}
		atRest[0][i] = readMemory()
		atRest[1][i] = readServeMemory(ctx, serve.pid(), metricsAddr, true)
		fmt.Fprintf(e.Stderr, "bench soak: at rest at the %s: heap live %.1f MiB (RSS %.1f MiB), serve's heap live %.1f MiB (RSS %.1f MiB)\n",
			at, atRest[0][i].heap, atRest[0][i].rss, atRest[1][i].heap, atRest[1][i].rss)
		if o.HeapProfiles == "" {
			return
		}
		for p, name := range []string{"soak", "serve"} {
			path := filepath.Join(o.HeapProfiles, name+"-"+at+".pb.gz")
			if err := writeHeapProfile(ctx, path, p == 1, metricsAddr); err != nil {
				fmt.Fprintf(e.Stderr, "bench soak: %v\n", err)
				c.errors.Add(1)
				continue
			}
			profiles[p][i] = path
		}
	}
	report := func(when string, w *[2][]memSample) {
		a, b := median(w[0]), median(w[1])
		fmt.Fprintf(e.Stderr, "bench soak: under load %s: heap live %.1f MiB (RSS %.1f MiB), serve's heap live %.1f MiB (RSS %.1f MiB)\n",
			when, a.heap, a.rss, b.heap, b.rss)
	}
	sampler := time.NewTicker(every)
	defer sampler.Stop()
	tick := time.NewTicker(o.Progress)
	defer tick.Stop()
	warm := false
loop:
	for {
		select {
		case <-sampler.C:
			switch at := time.Since(start); {
			case at >= o.Warmup && !warm:
				readAtRest(0)
				warm = true
			case warm && len(first[0]) < memSamples:
				if sample(&first); len(first[0]) == memSamples {
					report("after the warm-up", &first)
				}
			case at >= o.Duration-window && at > o.Warmup+window && len(last[0]) < memSamples:
				if sample(&last); len(last[0]) == memSamples {
					report("at the end", &last)
					fmt.Fprintf(e.Stderr, "bench soak: waiting for the last rounds\n")
				}
			}
		case <-tick.C:
			fmt.Fprintf(e.Stderr, "bench soak: %s: rounds done so far: %s sms, %s replies, %s pings, %s dashboard loads, %d errors\n",
				time.Since(start).Truncate(time.Second), thousands(c.sms.Load()), thousands(c.replies.Load()),
				thousands(c.pings.Load()), thousands(c.loads.Load()), c.errors.Load())
		case <-done:
			break loop
		}
	}
	elapsed := time.Since(start)
	readAtRest(1) // every load has ended
	if !warm {
		atRest[0][0], atRest[1][0] = atRest[0][1], atRest[1][1] // the soak ended before its warm-up
		profiles[0][0], profiles[1][0] = profiles[0][1], profiles[1][1]
	}
	if len(first[0]) == 0 {
		first = [2][]memSample{{atRest[0][0]}, {atRest[1][0]}} // no time was left under load
	}
	if len(last[0]) == 0 {
		last = first
	}
	per := func(n int64) float64 { return round(float64(n)/elapsed.Seconds(), 1) }
	f := &SoakFigures{DurationSec: round(elapsed.Seconds(), 1),
		SMS: c.sms.Load(), SMSPerSec: per(c.sms.Load()), Replies: c.replies.Load(), RepliesPerSec: per(c.replies.Load()),
		Pings: c.pings.Load(), PingsPerSec: per(c.pings.Load()), DashboardLoads: c.loads.Load(), DashboardLoadsPerSec: per(c.loads.Load()),
		Rounds: c.rounds.Load(), Errors: c.errors.Load(),
		Processes: []SoakMemory{
			soakMemory("morsel bench soak (the benches, the sms, replies and dashboard servers)", os.Getpid(), atRest[0], median(first[0]), median(last[0])),
			soakMemory("morsel serve (the pings rounds' server)", serve.pid(), atRest[1], median(first[1]), median(last[1])),
		},
	}
	fmt.Fprintf(e.Stdout, "bench soak: %.0fs, %d rounds: %.1f sms/s, %.1f replies/s, %.1f pings/s, %.1f dashboard loads/s, %d errors\n",
		f.DurationSec, f.Rounds, f.SMSPerSec, f.RepliesPerSec, f.PingsPerSec, f.DashboardLoadsPerSec, f.Errors)
	for i := range f.Processes {
		f.Processes[i].HeapProfileStart, f.Processes[i].HeapProfileEnd = profiles[i][0], profiles[i][1]
	}
	if o.HeapProfiles != "" {
		fmt.Fprintf(e.Stderr, "bench soak: what serve's heap gained: go tool pprof -top -diff_base %s %s\n", profiles[1][0], profiles[1][1])
	}
	for _, p := range f.Processes {
		fmt.Fprintf(e.Stdout, "  %s, pid %d: heap live at rest %.1f → %.1f MiB (%+.1f%%, flat: %v), RSS %.1f → %.1f MiB; under load %.1f → %.1f MiB (%+.1f%%)\n",
			p.Process, p.PID, p.HeapStartMiB, p.HeapEndMiB, p.MemoryGrowthPercent, p.MemoryFlat, p.RSSStartMiB, p.RSSEndMiB,
			p.HeapLoadedStartMiB, p.HeapLoadedEndMiB, p.LoadedGrowthPercent)
	}
	for _, m := range append(append(slices.Clip(first[1]), last[1]...), atRest[1][:]...) {
		if m.err != nil {
			return f, fmt.Errorf("bench soak: the memory of serve (pid %d): %w; its log: %s\n%s",
				serve.pid(), m.err, serve.logPath, tail(serve.logPath, 10))
		}
	}
	if err := ctx.Err(); err != nil {
		return f, err
	}
	return f, nil
}

// defaultWarmup is when a soak of d reads its memory at start: once serve's
// pings maps hold all they keep (web.PingStateKept, and a minute for the
// last round's links), so that start and end compare a serve in its steady
// state, not one still filling its maps by design; or, in a soak too short
// to leave room after that, at six tenths of it; and never before a fifth.
func defaultWarmup(d time.Duration) time.Duration {
	return max(d/5, min(web.PingStateKept+time.Minute, d*6/10))
}

// soakMemory is a process's memory figures from its readings at rest and
// the medians of its samples under load, at the start and at the end.
func soakMemory(process string, pid int, rest [2]memSample, first, last memSample) SoakMemory {
	return SoakMemory{Process: process, PID: pid,
		RSSStartMiB: round(rest[0].rss, 1), RSSEndMiB: round(rest[1].rss, 1), HeapStartMiB: round(rest[0].heap, 1), HeapEndMiB: round(rest[1].heap, 1),
		MemoryGrowthPercent: growth(rest[0].heap, rest[1].heap), MemoryFlat: growth(rest[0].heap, rest[1].heap) <= 10,
		HeapLoadedStartMiB: round(first.heap, 1), HeapLoadedEndMiB: round(last.heap, 1), LoadedGrowthPercent: growth(first.heap, last.heap)}
}

// growth is how much to grew from from, in percent to a tenth.
func growth(from, to float64) float64 {
	if from <= 0 {
		return 0
	}
	return round((to-from)/from*100, 1)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// memSamples is how many samples of the memory a window takes.
const memSamples = 12

// median is the sample of the median live heap (the first error, if any).
func median(samples []memSample) memSample {
	for _, m := range samples {
		if m.err != nil {
			return m
		}
	}
	sorted := slices.SortedFunc(slices.Values(samples), func(a, b memSample) int { return cmp.Compare(a.heap, b.heap) })
	return sorted[len(sorted)/2]
}

// memSample is a process's resident memory and the heap its last GC found
// live, in MiB, or why they could not be read.
type memSample struct {
	rss, heap float64
	err       error
}

// heapProfileRate is the bytes per sampled allocation of the heap profiles
// a soak writes.
const heapProfileRate = 64 << 10

// readMemory collects garbage, then reads this process's live heap and
// VmRSS. It collects twice: what sync.Pools held at the first collection
// is kept until the second.
func readMemory() memSample {
	runtime.GC()
	runtime.GC()
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	return memSample{rss: float64(rssKiB(os.Getpid())) / 1024, heap: float64(live[0].Value.Uint64()) / (1 << 20)}
}

// readServeMemory reads the VmRSS of the serve process pid and the live heap
// its metrics at metricsAddr give, after a GC when collect is set (its
// pprof heap handler runs one; otherwise the figure is the last GC's).
func readServeMemory(ctx context.Context, pid int, metricsAddr string, collect bool) memSample {
	if rssKiB(pid) == 0 {
		return memSample{err: errors.New("the process is gone")}
	}
	for i := 0; collect && i < 2; i++ { // twice, as readMemory collects
		if err := writeHeapProfile(ctx, os.DevNull, true, metricsAddr); err != nil {
			return memSample{err: err}
		}
	}
	live, err := scrapeGauge(ctx, "http://"+metricsAddr+"/metrics", "go_gc_heap_live_bytes")
	if err != nil {
		return memSample{err: err}
	}
	return memSample{rss: float64(rssKiB(pid)) / 1024, heap: live / (1 << 20)}
}

// writeHeapProfile writes to path the heap profile of this process, or of
// serve's (from its /debug/pprof on metricsAddr), each after a GC.
func writeHeapProfile(ctx context.Context, path string, serve bool, metricsAddr string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("heap profile %s: %w", path, cerr)
		}
	}()
	if !serve {
		runtime.GC()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			return fmt.Errorf("heap profile %s: %w", path, err)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := "http://" + metricsAddr + "/debug/pprof/heap?gc=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("serve's heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("serve's heap profile: GET %s: %s", url, resp.Status)
	}
	if _, err := io.Copy(f, io.LimitReader(resp.Body, 256<<20)); err != nil {
		return fmt.Errorf("serve's heap profile: %w", err)
	}
	return nil
}

// scrapeGauge reads the value of an unlabelled metric from a Prometheus
// text page.
func scrapeGauge(ctx context.Context, url, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	return 0, fmt.Errorf("scrape %s: no %s", url, name)
}

// rssKiB is VmRSS of /proc/PID/status in KiB; 0 when it cannot be read.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
