package driver

import (
	"errors"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/glusterdocker/gluster/names"
)

func ptr[T any](v T) *T { return &v }

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name string
		raw  map[string]string
		want Options
		err  bool
	}{
		{"[Success] none", nil, Options{}, false},
		{"[Success] replica and arbiter", map[string]string{"replica": "3", "arbiter": "true"}, Options{Replica: 3, Arbiter: true}, false},
		{"[Success] servers", map[string]string{"servers": "10.0.0.1, 10.0.0.2"}, Options{Servers: []string{"10.0.0.1", "10.0.0.2"}}, false},
		{"[Success] ownership", map[string]string{"uid": "1000", "gid": "0", "mode": "0750"}, Options{UID: ptr(uint32(1000)), GID: ptr(uint32(0)), Mode: ptr(uint32(0o750))}, false},
		{"[Success] gluster options", map[string]string{"gluster.performance.cache-size": "64MB"}, Options{Gluster: map[string]string{"performance.cache-size": "64MB"}}, false},
		{"[Success] existing volume and subdir", map[string]string{"volume": "shared", "subdir": "/apps/web/"}, Options{Volume: "shared", Subdir: "apps/web"}, false},
		{"[Success] pool", map[string]string{"pool": "web", "size": "1M", "on-remove": "delete", "replica": "3"}, Options{Pool: "web", Size: 1 << 20, OnRemove: "delete", Replica: 3}, false},
		{"[Success] pooled as recorded", map[string]string{"pool": "web.x", "volume": "pool__web__x", "subdir": "a.b"}, Options{Pool: "web.x", Volume: "pool__web__x", Subdir: "a.b"}, false},
		{"[Success] pool= empty", map[string]string{"pool": ""}, Options{}, false},
		{"[Error] pooled in another volume", map[string]string{"pool": "web", "volume": "shared", "subdir": "a"}, Options{}, true},
		{"[Error] pooled deeper than one directory", map[string]string{"pool": "web", "volume": "pool__web", "subdir": "a/b"}, Options{}, true},
		{"[Error] pool name with a slash", map[string]string{"pool": "a/b"}, Options{}, true},
		{"[Error] gluster option with pool", map[string]string{"pool": "web", "gluster.a.b": "1"}, Options{}, true},
		{"[Error] unknown option", map[string]string{"replicas": "2"}, Options{}, true},
		{"[Success] two replica sets", map[string]string{"replica": "2", "bricks": "4"}, Options{Replica: 2, Bricks: 4}, false},
		{"[Error] bricks without replica", map[string]string{"bricks": "4"}, Options{}, true},
		{"[Error] bricks not whole replica sets", map[string]string{"replica": "2", "bricks": "3"}, Options{}, true},
		{"[Error] bricks with an arbiter", map[string]string{"replica": "3", "arbiter": "true", "bricks": "6"}, Options{}, true},
		{"[Error] bricks with volume", map[string]string{"volume": "v", "bricks": "2"}, Options{}, true},
		{"[Error] replica zero", map[string]string{"replica": "0"}, Options{}, true},
		{"[Error] replica word", map[string]string{"replica": "two"}, Options{}, true},
		{"[Error] arbiter word", map[string]string{"arbiter": "maybe"}, Options{}, true},
		{"[Error] arbiter with replica 2", map[string]string{"replica": "2", "arbiter": "1"}, Options{}, true},
		{"[Error] empty servers", map[string]string{"servers": ","}, Options{}, true},
		{"[Error] negative uid", map[string]string{"uid": "-1"}, Options{}, true},
		{"[Error] mode not octal", map[string]string{"mode": "rwx"}, Options{}, true},
		{"[Error] mode too big", map[string]string{"mode": "17777"}, Options{}, true},
		{"[Error] bad volume name", map[string]string{"volume": "a.b"}, Options{}, true},
		{"[Error] subdir escapes", map[string]string{"volume": "v", "subdir": "../etc"}, Options{}, true},
		{"[Error] subdir without volume", map[string]string{"subdir": "x"}, Options{}, true},
		{"[Error] replica with volume", map[string]string{"volume": "v", "replica": "2"}, Options{}, true},
		{"[Error] gluster option with volume", map[string]string{"volume": "v", "gluster.a.b": "1"}, Options{}, true},
		{"[Error] reserved label", map[string]string{"gluster.user.docker-volume": "x"}, Options{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOptions(tc.raw)
			if tc.err {
				if !errors.Is(err, ErrBadOption) {
					t.Fatalf("ParseOptions(%v) = %+v, %v; want ErrBadOption", tc.raw, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseOptions(%v) = %+v, want %+v", tc.raw, got, tc.want)
			}
		})
	}
}

// TestOwnerIDBounds: ids are 32 bits wide; a larger number must not wrap
// around to another owner (4294967296 would be root), and 4294967295 is
// chown's "leave unchanged".
func TestOwnerIDBounds(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  uint32
		err   bool
	}{
		{"[Success] root", "0", 0, false},
		{"[Success] largest id", "4294967294", 4294967294, false},
		{"[Error] chown's leave-unchanged", "4294967295", 0, true},
		{"[Error] wraps to root", "4294967296", 0, true},
		{"[Error] wraps to 1", "4294967297", 0, true},
		{"[Error] beyond 64 bits", "18446744073709551616", 0, true},
		{"[Error] negative", "-1", 0, true},
		{"[Error] sign", "+5", 0, true},
		{"[Error] hex", "0x10", 0, true},
		{"[Error] empty", "", 0, true},
	}
	for _, tc := range tests {
		for _, key := range []string{"uid", "gid"} {
			t.Run(tc.name+" "+key, func(t *testing.T) {
				o, err := ParseOptions(map[string]string{key: tc.value})
				if tc.err {
					if !errors.Is(err, ErrBadOption) || !strings.Contains(err.Error(), "0 to 4294967294") {
						t.Fatalf("%s=%s: %+v, %v; want ErrBadOption naming the range", key, tc.value, o, err)
					}
					return
				}
				got := o.UID
				if key == "gid" {
					got = o.GID
				}
				if err != nil || got == nil || *got != tc.want {
					t.Fatalf("%s=%s: %v, %v; want %d", key, tc.value, got, err, tc.want)
				}
			})
		}
	}
}

// FuzzParseOptions feeds up to three arbitrary options to the parser:
// anything refused is ErrBadOption, and anything accepted is consistent and
// parses again, written back as options, to the same Options.
func FuzzParseOptions(f *testing.F) {
	f.Add("replica", "2", "arbiter", "false", "", "")
	f.Add("replica", "3", "arbiter", "true", "servers", "10.0.0.1, 10.0.0.2,10.0.0.3")
	f.Add("volume", "shared", "subdir", "/apps//web/./x/", "mode", "1777")
	f.Add("uid", "33", "gid", "0", "mode", "0755")
	f.Add("gluster.performance.cache-size", "64MB", "subdir", "../etc", "", "")
	f.Add("volume", "v", "replica", "2", "gluster.user.docker-volume", "x")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		raw := map[string]string{}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}, {k3, v3}} {
			if kv[0] != "" {
				raw[kv[0]] = kv[1]
			}
		}
		o, err := ParseOptions(raw)
		if err != nil {
			if !errors.Is(err, ErrBadOption) {
				t.Fatalf("ParseOptions(%q) = %v, want ErrBadOption", raw, err)
			}
			return
		}
		checkOptions(t, raw, o)
		again, err := ParseOptions(format(o))
		if err != nil || !reflect.DeepEqual(again, o) {
			t.Fatalf("ParseOptions(%q) = %+v, which written back as %q parses to %+v, %v", raw, o, format(o), again, err)
		}
	})
}

// checkOptions checks what accepted options promise the rest of the driver.
func checkOptions(t *testing.T, raw map[string]string, o Options) {
	t.Helper()
	bad := func(why string) { t.Fatalf("ParseOptions(%q) = %+v: %s", raw, o, why) }
	if o.Replica < 0 || o.Replica > 16 {
		bad("replica out of range")
	}
	if o.Arbiter && o.Replica != 0 && o.Replica != 3 {
		bad("arbiter without replica 3")
	}
	if o.Bricks != 0 && (o.Replica == 0 || o.Bricks%o.Replica != 0 || (o.Arbiter && o.Bricks != o.Replica)) {
		bad("bricks not whole replica sets of an explicit replica count")
	}
	if o.Existing() {
		if names.ValidateVolume(o.Volume) != nil {
			bad("invalid gluster volume name")
		}
		if o.Replica != 0 || o.Bricks != 0 || o.Arbiter || len(o.Servers) > 0 || len(o.Gluster) > 0 {
			bad("creation options with volume=")
		}
	}
	if o.Subdir != "" {
		if !o.Existing() {
			bad("subdir without volume=")
		}
		if path.IsAbs(o.Subdir) || path.Clean(o.Subdir) != o.Subdir || slices.Contains(strings.Split(o.Subdir, "/"), "..") {
			bad("subdir is not a clean relative path inside the volume")
		}
	}
	for _, s := range o.Servers {
		if s == "" || strings.ContainsAny(s, ", ") {
			bad("empty or unsplit server")
		}
	}
	if (o.UID != nil && *o.UID > maxID) || (o.GID != nil && *o.GID > maxID) || (o.Mode != nil && *o.Mode > 0o7777) {
		bad("owner or mode out of range")
	}
	for k := range o.Gluster {
		if k == DockerVolumeOption || strings.HasPrefix(k, "user.created-at") {
			bad("an option the plugin sets itself")
		}
	}
}

// format writes options back as `docker volume create -o` options.
func format(o Options) map[string]string {
	raw := map[string]string{}
	if o.Replica != 0 {
		raw["replica"] = strconv.Itoa(o.Replica)
	}
	if o.Bricks != 0 {
		raw["bricks"] = strconv.Itoa(o.Bricks)
	}
	if o.Arbiter {
		raw["arbiter"] = "true"
	}
	if len(o.Servers) > 0 {
		raw["servers"] = strings.Join(o.Servers, ",")
	}
	for k, v := range o.Gluster {
		raw[glusterOptionPrefix+k] = v
	}
	if o.Volume != "" {
		raw["volume"] = o.Volume
	}
	if o.Subdir != "" {
		raw["subdir"] = o.Subdir
	}
	if o.UID != nil {
		raw["uid"] = strconv.FormatUint(uint64(*o.UID), 10)
	}
	if o.GID != nil {
		raw["gid"] = strconv.FormatUint(uint64(*o.GID), 10)
	}
	if o.Mode != nil {
		raw["mode"] = strconv.FormatUint(uint64(*o.Mode), 8)
	}
	return raw
}
