package metrics

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// family is one metric family in the text exposition format, for
// testutil's comparisons.
type family struct {
	name, kind, help string
	// series maps label pairs as the format writes them (`a="x",b="y"`,
	// "" for none) to values.
	series map[string]float64
}

func (f family) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
	for labels, v := range f.series {
		if labels != "" {
			labels = "{" + labels + "}"
		}
		fmt.Fprintf(&b, "%s%s %v\n", f.name, labels, v)
	}
	return b.String()
}

// assertFamilies fails the test unless reg holds exactly the given series
// of each family's name.
func assertFamilies(t *testing.T, reg prometheus.Gatherer, families ...family) {
	t.Helper()
	var text strings.Builder
	var names []string
	for _, f := range families {
		text.WriteString(f.String())
		names = append(names, f.name)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(text.String()), names...); err != nil {
		t.Error(err)
	}
}

// observations returns how many observations the histogram series of name
// with exactly labels in reg holds; testutil compares histograms only
// bucket by bucket, and the durations the tests observe vary. A missing
// series fails the test.
func observations(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m.GetLabel(), labels) && m.Histogram != nil {
				return m.Histogram.GetSampleCount()
			}
		}
	}
	t.Fatalf("no histogram series %s%v", name, labels)
	return 0
}

func hasLabels(pairs []*dto.LabelPair, want map[string]string) bool {
	if len(pairs) != len(want) {
		return false
	}
	for _, p := range pairs {
		if v, ok := want[p.GetName()]; !ok || v != p.GetValue() {
			return false
		}
	}
	return true
}
