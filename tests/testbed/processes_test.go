package testbed

import (
	"maps"
	"testing"
)

func TestParseTop(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want map[int]string
	}{
		{"[Success] a server's processes", "PID                 COMMAND\n4211                tini\n4250                glusterd\n4391                glusterfsd\n4402                glusterfs\n",
			map[int]string{4211: "tini", 4250: "glusterd", 4391: "glusterfsd", 4402: "glusterfs"}},
		{"[Success] header only", "PID COMMAND\n", map[int]string{}},
		{"[Error] lines that are not a pid and a command are skipped", "PID COMMAND\nx glusterd\n12 a b\n13 gluster-server\n",
			map[int]string{13: "gluster-server"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseTop(tc.out); !maps.Equal(got, tc.want) {
				t.Errorf("parseTop(%q) = %v, want %v", tc.out, got, tc.want)
			}
		})
	}
}
