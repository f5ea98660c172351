package control

import (
	"testing"
)

func TestSplitBrainPolicyOfLayouts(t *testing.T) {
	tests := []struct {
		name  string
		peers []string
		req   CreateRequest
		want  string // FavoriteChildOption after the create; "" for unset
	}{
		{"[Success] two copies resolve to the newest", []string{"a1", "a2"}, CreateRequest{Name: "v", Replica: 2}, "mtime"},
		{"[Success] two copies on three servers too", []string{"a1", "a2", "a3"}, CreateRequest{Name: "v", Replica: 2}, "mtime"},
		{"[Success] the creator's own policy", []string{"a1", "a2"}, CreateRequest{Name: "v", Replica: 2, Options: map[string]string{FavoriteChildOption: "size"}}, "size"},
		{"[Success] three copies keep quorum instead", []string{"a1", "a2", "a3"}, CreateRequest{Name: "v"}, ""},
		{"[Success] an arbiter keeps quorum instead", []string{"a1", "a2", "a3"}, CreateRequest{Name: "v", Replica: 3, Arbiter: true}, ""},
		{"[Success] one copy has nothing to resolve", []string{"a1"}, CreateRequest{Name: "v", Replica: 1}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, tc.peers...)
			vol, err := ts.client.Create(t.Context(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := vol.Options[FavoriteChildOption]; got != tc.want {
				t.Errorf("%s = %q, want %q", FavoriteChildOption, got, tc.want)
			}
		})
	}
}
