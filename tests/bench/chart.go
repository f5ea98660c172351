package bench

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart layout, in SVG user units.
const (
	chartWidth  = 960
	chartLabel  = 470 // width of the label column
	chartPlot   = 400 // width of the plot: 0 to chartScale times the target
	chartRow    = 22
	chartTop    = 44
	chartScale  = 2.0 // the plot ends at twice the target; beyond is clipped
	chartMargin = 10
)

// Chart draws every measure that has a target as a bar: the judged median
// as a fraction of the target's upper bound, with a whisker from the
// minimum to the maximum run. Everything left of the line at 1 meets an
// upper bound; a lower bound is marked on its row.
func (r *Report) Chart() string {
	var rows []*Measure
	for _, m := range r.Measures {
		if _, ok := m.judged(); ok && m.Target.High > 0 {
			rows = append(rows, m)
		}
	}
	height := chartTop + len(rows)*chartRow + 30
	x := func(fraction float64) float64 {
		return chartLabel + chartPlot*math.Max(0, math.Min(fraction, chartScale))/chartScale
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">make bench, %s, %d runs: median as a fraction of the target (whiskers: min–max)</text>`+"\n",
		chartMargin, r.Date.Format("2006-01-02"), r.Runs)
	for _, f := range []float64{0, 0.5, 1, 1.5, 2} {
		stroke, width := "#ccc", 1
		if f == 1 {
			stroke, width = "#333", 2
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="%d"/>`+"\n",
			x(f), chartTop-6, x(f), height-24, stroke, width)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", x(f), height-8, chartTick(f))
	}
	for i, m := range rows {
		y := chartTop + i*chartRow
		s, _ := m.judged()
		high := m.Target.High
		color := "#2e7d32"
		if m.Verdict() == "fail" {
			color = "#c62828"
		}
		label := fmt.Sprintf("%d %s", m.Item, m.Name)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", chartMargin, y+14, html.EscapeString(clip(label, 72)))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="14" fill="%s" opacity="0.75"/>`+"\n",
			x(0), y+3, x(s.Median/high)-x(0), color)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000"/>`+"\n", x(s.Min/high), y+10, x(s.Max/high), y+10)
		if !math.IsInf(m.Target.Low, -1) {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-dasharray="2,2"/>`+"\n",
				x(m.Target.Low/high), y+1, x(m.Target.Low/high), y+19)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#333">%s</text>`+"\n", x(chartScale)+6, y+14, html.EscapeString(m.Target.Text))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func chartTick(f float64) string {
	if f == 1 {
		return "target"
	}
	return fmt.Sprintf("%g×", f)
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
