// Package bench measures what the plugin costs against the raw gluster
// client, side by side in the same run, on real dockerd and real server
// containers. The measurements build only with the tag bench (make bench);
// this file turns them into the table, the JSON record and the chart.
package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Figure says how a measure's plugin values compare with its baseline.
type Figure string

// The figures: the shared machine is noisy, so nothing is reported as an
// absolute time alone.
const (
	Ratio      Figure = "ratio"      // plugin / baseline, run by run
	Difference Figure = "difference" // plugin − baseline, run by run
)

// Judged names the series a target applies to.
type Judged string

// The series a target can judge.
const (
	OnFigure Judged = "figure" // the ratio or difference
	OnPlugin Judged = "plugin" // the plugin's own values
)

// Target is what the median of one series should meet, bounds inclusive. The
// zero Target is no target.
type Target struct {
	On   Judged  `json:"on,omitempty"`
	Low  float64 `json:"low,omitempty"`
	High float64 `json:"high,omitempty"`
	Text string  `json:"text,omitempty"`
}

// AtMost is a target with an upper bound.
func AtMost(on Judged, high float64, text string) Target {
	return Target{On: on, Low: math.Inf(-1), High: high, Text: text}
}

// Between is a target with both bounds.
func Between(on Judged, low, high float64, text string) Target {
	return Target{On: on, Low: low, High: high, Text: text}
}

// Set reports whether there is a target.
func (t Target) Set() bool { return t.On != "" }

// MarshalJSON writes an absent lower bound as null: JSON has no infinity.
func (t Target) MarshalJSON() ([]byte, error) {
	if !t.Set() {
		return []byte("null"), nil
	}
	var low *float64
	if !math.IsInf(t.Low, -1) {
		low = &t.Low
	}
	return json.Marshal(struct {
		On   Judged   `json:"on"`
		Low  *float64 `json:"low"`
		High float64  `json:"high"`
		Text string   `json:"text"`
	}{t.On, low, t.High, t.Text})
}

// Unit is the unit of a measure's values.
type Unit string

// The units values are recorded in.
const (
	Seconds      Unit = "s"
	Milliseconds Unit = "ms"
	Count        Unit = "count"
	MiB          Unit = "MiB"
	MiBPerVolume Unit = "MiB/volume"
	Success      Unit = "success" // 1 for a success, 0 for a failure
)

// Measure is one row of the table: the plugin's values and the baseline's,
// one of each per run, paired by run.
type Measure struct {
	Item     int       `json:"item"` // the numbering of the measures in the project's issue
	Name     string    `json:"name"`
	Baseline string    `json:"baseline"` // what the baseline is; empty: none
	Unit     Unit      `json:"unit"`
	Figure   Figure    `json:"figure,omitempty"`
	Target   Target    `json:"target"`
	Base     []float64 `json:"baseline_runs"`
	Plugin   []float64 `json:"plugin_runs"`
}

// Summary is the minimum, median and maximum of a series; N is 0 for none.
type Summary struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// Summarize summarizes values.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	mid := len(s) / 2
	median := s[mid]
	if len(s)%2 == 0 {
		median = (s[mid-1] + s[mid]) / 2
	}
	return Summary{N: len(s), Min: s[0], Median: median, Max: s[len(s)-1]}
}

// Slopes pairs the values measured with from volumes with those measured
// with to volumes, sample by sample, and returns what each added volume
// cost: (at − base) / (to − from). Samples without a partner are left out.
func Slopes(base, at []float64, from, to int) []float64 {
	if to == from {
		return nil
	}
	var out []float64
	for i := 0; i < min(len(base), len(at)); i++ {
		out = append(out, (at[i]-base[i])/float64(to-from))
	}
	return out
}

// megabyte is a million bytes in MiB, the unit memory is recorded in: the
// issue states its memory targets in MB.
const megabyte = 1e6 / (1 << 20)

// Figures pairs the plugin's runs with the baseline's and returns the ratio
// or difference of each pair; runs without a partner are left out.
func (m *Measure) Figures() []float64 {
	var out []float64
	for i := 0; i < min(len(m.Base), len(m.Plugin)); i++ {
		switch m.Figure {
		case Ratio:
			if m.Base[i] != 0 {
				out = append(out, m.Plugin[i]/m.Base[i])
			}
		case Difference:
			out = append(out, m.Plugin[i]-m.Base[i])
		}
	}
	return out
}

// Verdict is "pass" or "fail" for a measure with a target and values to
// judge, and "" otherwise.
func (m *Measure) Verdict() string {
	judged, ok := m.judged()
	if !ok {
		return ""
	}
	if judged.Median >= m.Target.Low && judged.Median <= m.Target.High {
		return "pass"
	}
	return "fail"
}

// judged summarizes the series the target applies to.
func (m *Measure) judged() (Summary, bool) {
	var s Summary
	switch m.Target.On {
	case OnFigure:
		s = Summarize(m.Figures())
	case OnPlugin:
		s = Summarize(m.Plugin)
	}
	return s, s.N > 0
}

// Report is one run of the bench.
type Report struct {
	Date     time.Time  `json:"date"`
	Host     string     `json:"host"`
	Quick    bool       `json:"quick"`
	Runs     int        `json:"runs"`
	Notes    []string   `json:"notes,omitempty"`
	Measures []*Measure `json:"measures"`
}

// measureJSON is a measure with its summaries, for readers of the record.
type measureJSON struct {
	*Measure
	BaseSummary   Summary `json:"baseline"`
	PluginSummary Summary `json:"plugin"`
	FigureSummary Summary `json:"figure_summary"`
	Verdict       string  `json:"verdict,omitempty"`
}

// JSON is the report with each measure's summaries and verdict.
func (r *Report) JSON() ([]byte, error) {
	ms := make([]measureJSON, len(r.Measures))
	for i, m := range r.Measures {
		ms[i] = measureJSON{
			Measure:       m,
			BaseSummary:   Summarize(m.Base),
			PluginSummary: Summarize(m.Plugin),
			FigureSummary: Summarize(m.Figures()),
			Verdict:       m.Verdict(),
		}
	}
	return json.MarshalIndent(struct {
		*Report
		Measures []measureJSON `json:"measures"`
	}{r, ms}, "", "  ")
}

// Table renders the report as a Markdown table: measure, baseline, plugin,
// ratio (or difference), target, pass/fail. Cells show the median with the
// minimum and maximum over the runs.
func (r *Report) Table() string {
	var b strings.Builder
	mode := ""
	if r.Quick {
		mode = ", quick mode: no verdict counts"
	}
	fmt.Fprintf(&b, "%s on %s, %d runs%s\n\n", r.Date.Format("2006-01-02 15:04 MST"), r.Host, r.Runs, mode)
	b.WriteString("| # | measure | baseline | plugin | ratio | target | pass/fail |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, m := range r.Measures {
		base := "—"
		if m.Baseline != "" {
			base = m.Baseline + ": " + formatValues(m.Base, m.Unit)
		}
		figure := "—"
		if fs := Summarize(m.Figures()); fs.N > 0 {
			figure = formatFigure(fs, m.Figure, m.Unit)
		}
		target := m.Target.Text
		if target == "" {
			target = "—"
		}
		verdict := m.Verdict()
		if verdict == "" {
			verdict = "—"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s |\n", m.Item, m.Name, base,
			formatValues(m.Plugin, m.Unit), figure, target, verdict)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	return b.String()
}

// formatValues shows "median (min–max) unit"; a success series shows how
// many runs succeeded.
func formatValues(values []float64, u Unit) string {
	s := Summarize(values)
	if s.N == 0 {
		return "no runs"
	}
	switch u {
	case Success:
		ok := 0
		for _, v := range values {
			if v > 0 {
				ok++
			}
		}
		return fmt.Sprintf("%d of %d", ok, s.N)
	case Count:
		if s.Min == s.Max {
			return fmt.Sprintf("%g", s.Median)
		}
		return fmt.Sprintf("%g (%g–%g)", s.Median, s.Min, s.Max)
	}
	if s.N == 1 || s.Min == s.Max {
		return formatNumber(s.Median) + " " + string(u)
	}
	return fmt.Sprintf("%s (%s–%s) %s", formatNumber(s.Median), formatNumber(s.Min), formatNumber(s.Max), u)
}

func formatFigure(s Summary, f Figure, u Unit) string {
	if f == Ratio {
		if s.N == 1 {
			return fmt.Sprintf("%.2f×", s.Median)
		}
		return fmt.Sprintf("%.2f× (%.2f–%.2f)", s.Median, s.Min, s.Max)
	}
	signed := func(v float64) string {
		if v >= 0 {
			return "+" + formatNumber(v)
		}
		return "−" + formatNumber(-v)
	}
	if s.N == 1 {
		return signed(s.Median) + " " + string(u)
	}
	return fmt.Sprintf("%s (%s…%s) %s", signed(s.Median), signed(s.Min), signed(s.Max), u)
}

// formatNumber keeps three significant digits, enough for noisy timings.
func formatNumber(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
