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

func TestWitnessOfLayouts(t *testing.T) {
	tests := []struct {
		name  string
		peers []string
		req   CreateRequest
		want  string // the volume's witness; "" for none
	}{
		{"[Success] two copies get the witness", []string{"a1", "a2"}, CreateRequest{Name: "v"}, "10.0.0.9:/witness"},
		{"[Success] two copies on three servers too", []string{"a1", "a2", "a3"}, CreateRequest{Name: "v", Replica: 2}, "10.0.0.9:/witness"},
		{"[Success] three copies vote themselves", []string{"a1", "a2", "a3"}, CreateRequest{Name: "v"}, ""},
		{"[Success] an arbiter brick votes itself", []string{"a1", "a2", "a3"}, CreateRequest{Name: "v", Replica: 3, Arbiter: true}, ""},
		{"[Success] two replica sets are left without", []string{"a1", "a2", "a3", "a4"}, CreateRequest{Name: "v", Replica: 2, Bricks: 4}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, tc.peers...)
			WithWitness("10.0.0.9")(ts.svc)
			vol, err := ts.client.Create(t.Context(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(ts.gluster.thinArbiters) != 1 || ts.gluster.thinArbiters[0] != tc.want {
				t.Errorf("created with thin arbiter %q, want %q", ts.gluster.thinArbiters, tc.want)
			}
			if vol.Witness != tc.want {
				t.Errorf("the create answered witness %q, want %q", vol.Witness, tc.want)
			}
			if got, _ := ts.client.Volume(t.Context(), "v"); got.Witness != tc.want || (tc.want != "" && got.Options[FavoriteChildOption] != "") {
				t.Errorf("volume has witness %q and %s %q, want %q and none with a witness", got.Witness, FavoriteChildOption, got.Options[FavoriteChildOption], tc.want)
			}
		})
	}
}

func TestHealCrawlOfLayouts(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  CreateRequest
		want string
	}{
		{"[Success] two copies", CreateRequest{Name: "v", Replica: 2}, "10"},
		{"[Success] the creator's own crawl", CreateRequest{Name: "v", Replica: 2, Options: map[string]string{"cluster.heal-timeout": "60"}}, "60"},
		{"[Success] one copy heals nothing", CreateRequest{Name: "v", Replica: 1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, "a1", "a2")
			vol, err := ts.client.Create(t.Context(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := vol.Options["cluster.heal-timeout"]; got != tc.want {
				t.Errorf("cluster.heal-timeout = %q, want %q", got, tc.want)
			}
		})
	}
}
