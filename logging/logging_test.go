package logging

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name, level, format string
		want                string // a fragment of the line logged at info
		err                 bool
	}{
		{"[Success] text", "info", "text", "level=INFO msg=hello volume=v", false},
		{"[Success] json", "INFO", "json", `"msg":"hello","volume":"v"`, false},
		{"[Success] warn hides info", "warn", "text", "", false},
		{"[Error] level", "loud", "text", "", true},
		{"[Error] format", "info", "xml", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger, err := New(&buf, tc.level, tc.format)
			if tc.err {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			logger.Info("hello", "volume", "v")
			if tc.want == "" && buf.Len() != 0 || !strings.Contains(buf.String(), tc.want) {
				t.Errorf("logged %q, want %q", buf.String(), tc.want)
			}
		})
	}
}

func TestSteps(t *testing.T) {
	s := StartSteps()
	s.Step("first")
	s.Step("second")
	attrs := s.Attrs()
	if len(attrs) != 4 || attrs[0] != "first" || attrs[2] != "second" {
		t.Fatalf("Attrs() = %v, want first and second with their durations", attrs)
	}
	for _, d := range []any{attrs[1], attrs[3]} {
		if d, ok := d.(time.Duration); !ok || d < 0 || d%time.Millisecond != 0 {
			t.Errorf("duration %v: want a whole number of milliseconds", d)
		}
	}
}
