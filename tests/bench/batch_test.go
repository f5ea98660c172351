package bench

import (
	"slices"
	"testing"
)

func TestBusyCommands(t *testing.T) {
	cmds := []string{"volume stop a", "volume delete a", "volume set pool k v"}
	welcome := "Welcome to gluster prompt, type 'help' to see the available commands.\n"
	tests := []struct {
		name     string
		out      string
		wantBusy []string
		wantOK   bool
	}{
		{"[Success] every command succeeded", welcome + "volume stop: a: success\nvolume delete: a: success\nvolume set: success\n", nil, true},
		{"[Success] two refused as busy", welcome + "volume stop: a: success\nvolume delete: a: failed: Another transaction is in progress for a. Please try again after some time.\nvolume set: failed: Another transaction is in progress for pool. Please try again after some time.\n",
			[]string{"volume delete a", "volume set pool k v"}, true},
		{"[Error] another failure", welcome + "volume stop: a: failed: Volume a is not in the started state\nvolume delete: a: success\nvolume set: success\n", nil, false},
		{"[Error] an answer missing", welcome + "volume stop: a: success\n", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			busy, ok := busyCommands(cmds, tc.out)
			if ok != tc.wantOK || !slices.Equal(busy, tc.wantBusy) {
				t.Errorf("busyCommands = %q, %v; want %q, %v", busy, ok, tc.wantBusy, tc.wantOK)
			}
		})
	}
}
