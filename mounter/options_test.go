package mounter

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestMountArgs(t *testing.T) {
	testCases := []struct {
		name  string
		req   Request
		order []string
		dead  []string
		want  []string
	}{
		{
			name:  "[Success] one server, no bricks known",
			req:   Request{Volume: "gv", Servers: []string{"s1"}, Target: "/mnt/gv", LogFile: "/log/gv.log"},
			order: []string{"s1"},
			want:  []string{"-t", "glusterfs", "-o", "log-file=/log/gv.log", "s1:/gv", "/mnt/gv"},
		},
		{
			name:  "[Success] the other servers are backups in order",
			req:   Request{Volume: "gv", Servers: []string{"s1", "s2", "s3"}, Bricks: []string{"s1", "s2", "s3"}, Target: "/mnt/gv", LogFile: "/log/gv.log"},
			order: []string{"s1", "s2", "s3"},
			want:  []string{"-t", "glusterfs", "-o", "backup-volfile-servers=s2:s3,log-file=/log/gv.log", "s1:/gv", "/mnt/gv"},
		},
		{
			name:  "[Success] subdirectory",
			req:   Request{Volume: "gv", Subdir: "apps/db", Servers: []string{"s1", "s2"}, Target: "/mnt/db", LogFile: "/log/db.log"},
			order: []string{"s2", "s1"},
			want:  []string{"-t", "glusterfs", "-o", "backup-volfile-servers=s1,log-file=/log/db.log", "s2:/gv/apps/db", "/mnt/db"},
		},
		{
			name:  "[Success] short timeout for the bricks of dead hosts only",
			req:   Request{Volume: "gv", Servers: []string{"s1", "s2", "s3"}, Bricks: []string{"s1", "s2", "s1", "s3"}, Target: "/mnt/gv", LogFile: "/log/gv.log"},
			order: []string{"s2", "s3", "s1"},
			dead:  []string{"s1"},
			want: []string{"-t", "glusterfs", "-o",
				"backup-volfile-servers=s3:s1,log-file=/log/gv.log,xlator-option=gv-client-[02].transport.tcp-user-timeout=1",
				"s2:/gv", "/mnt/gv"},
		},
		{
			name:  "[Success] dead server that holds no brick",
			req:   Request{Volume: "gv", Servers: []string{"s1", "s2", "s3"}, Bricks: []string{"s2", "s3"}, Target: "/mnt/gv", LogFile: "/log/gv.log"},
			order: []string{"s2", "s3", "s1"},
			dead:  []string{"s1"},
			want:  []string{"-t", "glusterfs", "-o", "backup-volfile-servers=s3:s1,log-file=/log/gv.log", "s2:/gv", "/mnt/gv"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := mountArgs(tc.req, tc.order, toSet(tc.dead), time.Second); !slices.Equal(got, tc.want) {
				t.Errorf("mountArgs() =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestDeadBrickOption(t *testing.T) {
	const suffix = ".transport.tcp-user-timeout=2"
	const timeout = 2 * time.Second
	testCases := []struct {
		name   string
		bricks []string
		dead   []string
		want   string
	}{
		{name: "[Success] no brick dead", bricks: []string{"a", "b"}, want: ""},
		{name: "[Success] bricks unknown", bricks: nil, dead: []string{"a"}, want: ""},
		{name: "[Success] one dead brick is named exactly", bricks: []string{"a", "b", "c"}, dead: []string{"b"}, want: "gv-client-1" + suffix},
		{name: "[Success] several dead bricks in one class", bricks: []string{"a", "b", "a", "c"}, dead: []string{"a"}, want: "gv-client-[02]" + suffix},
		{name: "[Success] dead bricks past 10 share their leading digits", bricks: hosts(16, map[int]string{12: "x", 15: "x"}), dead: []string{"x"}, want: "gv-client-1[25]" + suffix},
		{name: "[Success] the largest group wins when one pattern cannot name them all", bricks: hosts(16, map[int]string{3: "x", 12: "x", 15: "x"}), dead: []string{"x"}, want: "gv-client-1[25]" + suffix},
		{name: "[Success] ties go to the lowest bricks", bricks: hosts(16, map[int]string{3: "x", 12: "x"}), dead: []string{"x"}, want: "gv-client-3" + suffix},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := deadBrickOption("gv", tc.bricks, toSet(tc.dead), timeout); got != tc.want {
				t.Errorf("deadBrickOption() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLiveFirst(t *testing.T) {
	testCases := []struct {
		name            string
		servers, dead   []string
		wantOrder       []string
		wantUnreachable []string
	}{
		{name: "[Success] all live keep the user's order", servers: []string{"s1", "s2", "s3"}, wantOrder: []string{"s1", "s2", "s3"}},
		{name: "[Success] dead ones go last in order", servers: []string{"s1", "s2", "s3", "s4"}, dead: []string{"s3", "s1"},
			wantOrder: []string{"s2", "s4", "s1", "s3"}, wantUnreachable: []string{"s1", "s3"}},
		{name: "[Success] duplicates once", servers: []string{"s1", "s2", "s1"}, dead: []string{"s1"},
			wantOrder: []string{"s2", "s1"}, wantUnreachable: []string{"s1"}},
		{name: "[Success] all dead", servers: []string{"s1", "s2"}, dead: []string{"s1", "s2"},
			wantOrder: []string{"s1", "s2"}, wantUnreachable: []string{"s1", "s2"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			order, unreachable := liveFirst(tc.servers, toSet(tc.dead))
			if !slices.Equal(order, tc.wantOrder) || !slices.Equal(unreachable, tc.wantUnreachable) {
				t.Errorf("liveFirst() = %q, %q; want %q, %q", order, unreachable, tc.wantOrder, tc.wantUnreachable)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	valid := Request{Volume: "gv_1-a", Subdir: "a/b", Servers: []string{"10.0.0.1", "gluster-2"}, Bricks: []string{"10.0.0.1"}, Target: "/mnt/gv", LogFile: "/var/log/gv.log"}
	testCases := []struct {
		name   string
		change func(r *Request)
		ok     bool
	}{
		{name: "[Success] valid", change: func(r *Request) {}, ok: true},
		{name: "[Success] no subdirectory", change: func(r *Request) { r.Subdir = "" }, ok: true},
		{name: "[Error] volume with a dot", change: func(r *Request) { r.Volume = "g.v" }},
		{name: "[Error] empty volume", change: func(r *Request) { r.Volume = "" }},
		{name: "[Error] absolute subdirectory", change: func(r *Request) { r.Subdir = "/a" }},
		{name: "[Error] subdirectory leaving the volume", change: func(r *Request) { r.Subdir = "../a" }},
		{name: "[Error] unclean subdirectory", change: func(r *Request) { r.Subdir = "a/../b" }},
		{name: "[Error] subdirectory with a space", change: func(r *Request) { r.Subdir = "a b" }},
		{name: "[Error] no servers", change: func(r *Request) { r.Servers = nil }},
		{name: "[Error] IPv6 server", change: func(r *Request) { r.Servers = []string{"fe80::1"} }},
		{name: "[Error] server with a comma", change: func(r *Request) { r.Servers = []string{"a,b"} }},
		{name: "[Error] brick host with a glob", change: func(r *Request) { r.Bricks = []string{"a*"} }},
		{name: "[Error] relative target", change: func(r *Request) { r.Target = "mnt/gv" }},
		{name: "[Error] unclean target", change: func(r *Request) { r.Target = "/mnt/gv/" }},
		{name: "[Error] root target", change: func(r *Request) { r.Target = "/" }},
		{name: "[Error] target with a space", change: func(r *Request) { r.Target = "/mnt/g v" }},
		{name: "[Error] no log file", change: func(r *Request) { r.LogFile = "" }},
		{name: "[Error] log file with a comma", change: func(r *Request) { r.LogFile = "/log/a,b" }},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			r := valid
			tc.change(&r)
			err := r.validate()
			if tc.ok && err != nil {
				t.Errorf("validate() = %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("validate() = %v, want ErrInvalidRequest", err)
			}
		})
	}
}

func toSet(s []string) map[string]bool {
	set := make(map[string]bool, len(s))
	for _, v := range s {
		set[v] = true
	}
	return set
}

// hosts returns n brick hosts named "live", except the given indexes.
func hosts(n int, except map[int]string) []string {
	h := make([]string, n)
	for i := range h {
		h[i] = "live"
		if e, ok := except[i]; ok {
			h[i] = e
		}
	}
	return h
}
