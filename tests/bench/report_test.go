package bench

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   Summary
	}{
		{"[Success] none", nil, Summary{}},
		{"[Success] one", []float64{2}, Summary{N: 1, Min: 2, Median: 2, Max: 2}},
		{"[Success] odd count, unsorted", []float64{5, 1, 3}, Summary{N: 3, Min: 1, Median: 3, Max: 5}},
		{"[Success] even count", []float64{4, 1, 2, 3}, Summary{N: 4, Min: 1, Median: 2.5, Max: 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarize(tc.values); got != tc.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tc.values, got, tc.want)
			}
		})
	}
}

func TestSlopes(t *testing.T) {
	tests := []struct {
		name     string
		base, at []float64
		from, to int
		want     []float64
	}{
		{"[Success] per server", []float64{100, 120}, []float64{190, 300}, 10, 100, []float64{1, 2}},
		{"[Success] memory that shrank", []float64{50}, []float64{40}, 10, 20, []float64{-1}},
		{"[Success] unpaired samples are left out", []float64{10}, []float64{20, 99}, 0, 5, []float64{2}},
		{"[Success] nothing measured", nil, nil, 10, 100, nil},
		{"[Error] the same count twice has no slope", []float64{1}, []float64{2}, 10, 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Slopes(tc.base, tc.at, tc.from, tc.to); !slices.Equal(got, tc.want) {
				t.Errorf("Slopes(%v, %v, %d, %d) = %v, want %v", tc.base, tc.at, tc.from, tc.to, got, tc.want)
			}
		})
	}
}

func TestMegabyte(t *testing.T) {
	if got := 300 * megabyte; got < 286.10 || got > 286.11 {
		t.Errorf("300 MB = %v MiB, want 286.10", got)
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name string
		m    Measure
		want string
	}{
		{"[Success] ratio within bound",
			Measure{Figure: Ratio, Target: AtMost(OnFigure, 1.1, "≤ 1.1×"), Base: []float64{1, 1, 2}, Plugin: []float64{1.05, 1.2, 2}}, "pass"},
		{"[Success] ratio median beyond bound",
			Measure{Figure: Ratio, Target: AtMost(OnFigure, 1.1, "≤ 1.1×"), Base: []float64{1, 1, 1}, Plugin: []float64{1.2, 1.3, 1}}, "fail"},
		{"[Success] below a lower bound",
			Measure{Figure: Ratio, Target: Between(OnFigure, 0.95, 1.05, ""), Base: []float64{1}, Plugin: []float64{0.9}}, "fail"},
		{"[Success] difference",
			Measure{Figure: Difference, Target: AtMost(OnFigure, 0.2, ""), Base: []float64{5, 6}, Plugin: []float64{5.1, 6.1}}, "pass"},
		{"[Success] plugin values judged",
			Measure{Figure: Ratio, Target: AtMost(OnPlugin, 3, ""), Base: []float64{55}, Plugin: []float64{2.9}}, "pass"},
		{"[Success] exact count",
			Measure{Target: Between(OnPlugin, 1, 1, "1"), Plugin: []float64{2}}, "fail"},
		{"[Success] no target", Measure{Figure: Ratio, Base: []float64{1}, Plugin: []float64{2}}, ""},
		{"[Success] nothing measured", Measure{Figure: Ratio, Target: AtMost(OnFigure, 1, "")}, ""},
		{"[Success] unpaired runs are left out",
			Measure{Figure: Ratio, Target: AtMost(OnFigure, 1.1, ""), Base: []float64{1}, Plugin: []float64{1, 9, 9}}, "pass"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.Verdict(); got != tc.want {
				t.Errorf("Verdict() = %q, want %q (figures %v)", got, tc.want, tc.m.Figures())
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"[Success] seconds", formatValues([]float64{0.41, 0.38, 0.49}, Seconds), "0.410 (0.380–0.490) s"},
		{"[Success] one run", formatValues([]float64{55.2}, Seconds), "55.2 s"},
		{"[Success] per volume", formatValues([]float64{0.5, 0.25}, MiBPerVolume), "0.375 (0.250–0.500) MiB/volume"},
		{"[Success] no runs", formatValues(nil, Seconds), "no runs"},
		{"[Success] successes", formatValues([]float64{1, 0, 1}, Success), "2 of 3"},
		{"[Success] constant count", formatValues([]float64{1, 1}, Count), "1"},
		{"[Success] ratio", formatFigure(Summary{N: 3, Min: 0.9, Median: 1.02, Max: 1.3}, Ratio, Seconds), "1.02× (0.90–1.30)"},
		{"[Success] difference", formatFigure(Summary{N: 2, Min: -0.05, Median: 0.1, Max: 0.25}, Difference, Seconds), "+0.100 (−0.050…+0.250) s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func testReport() *Report {
	return &Report{
		Date: time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC), Host: "h", Runs: 2,
		Measures: []*Measure{
			{Item: 1, Name: "mount <raw> & plugin", Baseline: "raw mount", Unit: Seconds, Figure: Ratio,
				Target: AtMost(OnFigure, 1.1, "≤ 1.1×"), Base: []float64{0.1, 0.1}, Plugin: []float64{0.1, 0.2}},
			{Item: 3, Name: "first run succeeds", Unit: Success, Plugin: []float64{1, 0}},
			{Item: 7, Name: "write", Baseline: "raw", Unit: Seconds, Figure: Ratio,
				Target: Between(OnFigure, 0.95, 1.05, "0.95–1.05×"), Base: []float64{2, 2}, Plugin: []float64{2, 2}},
		},
	}
}

func TestTable(t *testing.T) {
	table := testReport().Table()
	for _, want := range []string{
		"| 1 | mount <raw> & plugin | raw mount: 0.100 s | 0.150 (0.100–0.200) s | 1.50× (1.00–2.00) | ≤ 1.1× | fail |",
		"| 3 | first run succeeds | — | 1 of 2 | — | — | — |",
		"| 7 | write | raw: 2.00 s | 2.00 s | 1.00× (1.00–1.00) | 0.95–1.05× | pass |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestJSON(t *testing.T) {
	data, err := testReport().JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Runs     int `json:"runs"`
		Measures []struct {
			Name    string  `json:"name"`
			Verdict string  `json:"verdict"`
			Plugin  Summary `json:"plugin"`
		} `json:"measures"`
	}
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("%v:\n%s", err, data)
	}
	if back.Runs != 2 || len(back.Measures) != 3 || back.Measures[0].Verdict != "fail" || back.Measures[0].Plugin.N != 2 {
		t.Errorf("JSON read back as %+v:\n%s", back, data)
	}
	if !strings.Contains(string(data), `"low": null`) {
		t.Errorf("an absent lower bound is not null:\n%s", data)
	}
}

func TestChart(t *testing.T) {
	svg := testReport().Chart()
	dec := xml.NewDecoder(strings.NewReader(svg))
	bars := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			bars++
		}
	}
	// The background and one bar per measure with a target.
	if bars != 3 {
		t.Errorf("chart has %d rects, want 3:\n%s", bars, svg)
	}
	if !strings.Contains(svg, "mount &lt;raw&gt; &amp; plugin") {
		t.Errorf("labels are not escaped:\n%s", svg)
	}
}
