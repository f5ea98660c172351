package logging

import (
	"bytes"
	"strings"
	"testing"
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
