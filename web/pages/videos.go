package pages

import (
	"fmt"
	"math"
	"strconv"

	"github.com/morselhq/morsel/tracking"
	"github.com/morselhq/morsel/tracking/reports"
)

// VideoReportPage is /reports/videos: without a course, the courses to
// choose from; with one, the figures of its video lessons.
type VideoReportPage struct {
	Dash
	Courses []Option // no course chosen: the organisation's courses
	Course  Option   // the course chosen; ID 0: none
	Lessons []VideoLessonReport
}

// VideoLessonReport is one video lesson of the report.
type VideoLessonReport struct {
	Title   string
	Version int // the course version the lesson is of
	Seconds int // the video's duration
	Figures reports.VideoFigures
}

// Segment is one segment's row of a lesson's table.
type Segment struct {
	Index         int
	From, To      string // m:ss
	Watched       int
	Percent       string // of the reps sent
	X, Y, W, H    string // its bar in the chart
	Title, LabelX string
	Label         bool // its start is labelled on the axis
}

// Segments are the lesson's segments with their figures and bars.
func (l VideoLessonReport) Segments() []Segment {
	f := l.Figures
	n := len(f.Watched)
	if n == 0 {
		return nil
	}
	w := chartPlotWidth / float64(n)
	every := max(1, (n+7)/8) // at most eight labels on the axis
	out := make([]Segment, n)
	for i, c := range f.Watched {
		share := f.Percent(c)
		h := share / 100 * chartPlotHeight
		end := (i + 1) * tracking.SegmentSeconds
		if i == n-1 && l.Seconds > i*tracking.SegmentSeconds {
			end = min(end, l.Seconds) // the last segment is shorter
		}
		from, to := clock(i*tracking.SegmentSeconds), clock(end)
		out[i] = Segment{Index: i, From: from, To: to, Watched: c, Percent: sharePercentText(share),
			X: coord(chartLeft + float64(i)*w + w*0.1), Y: coord(chartTop + chartPlotHeight - h), W: coord(w * 0.8), H: coord(h),
			Title:  fmt.Sprintf("%s to %s: %d of %d reps watched it (%s)", from, to, c, f.Sent, sharePercentText(share)),
			LabelX: coord(chartLeft + float64(i)*w), Label: i%every == 0}
	}
	return out
}

// The chart's plot area, in the SVG's units.
const (
	chartLeft       = 40.0
	chartTop        = 10.0
	chartPlotWidth  = 430.0
	chartPlotHeight = 150.0
)

// thresholdAnchor keeps the threshold's label inside the chart: it ends at
// the line when the line is past the middle, else it starts there.
func (l VideoLessonReport) thresholdAnchor() string {
	if l.Figures.Threshold > 50 {
		return "end"
	}
	return "start"
}

// ThresholdX is where on the chart's time axis the course's threshold
// falls: the share of the video that completes the lesson.
func (l VideoLessonReport) ThresholdX() string {
	return coord(chartLeft + float64(l.Figures.Threshold)/100*chartPlotWidth)
}

// Desc describes the chart in words, for its title and screen readers.
func (l VideoLessonReport) Desc() string {
	f := l.Figures
	if f.Sent == 0 {
		return fmt.Sprintf("%s: no rep in view was sent this lesson yet.", l.Title)
	}
	last := f.Watched[len(f.Watched)-1]
	return fmt.Sprintf("%s: of %d reps sent it, %s watched the first segment and %s the last; median watched %s; %d (%s) reached the %d%% threshold.",
		l.Title, f.Sent, sharePercentText(f.Percent(f.Watched[0])), sharePercentText(f.Percent(last)), sharePercentText(f.Median),
		f.Completed, sharePercentText(f.Percent(f.Completed)), f.Threshold)
}

// YTicks are the labels of the chart's share axis.
func YTicks() []struct{ Y, Label string } {
	var out []struct{ Y, Label string }
	for _, p := range []int{0, 50, 100} {
		out = append(out, struct{ Y, Label string }{coord(chartTop + chartPlotHeight - float64(p)/100*chartPlotHeight), strconv.Itoa(p) + "%"})
	}
	return out
}

// sharePercentText writes a share in percent to one decimal at most: "62.5%".
func sharePercentText(p float64) string {
	return strconv.FormatFloat(math.Round(p*10)/10, 'f', -1, 64) + "%"
}

// clock writes seconds as m:ss.
func clock(seconds int) string { return fmt.Sprintf("%d:%02d", seconds/60, seconds%60) }

func coord(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }
