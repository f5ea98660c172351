package driver

import (
	"errors"
	"reflect"
	"testing"
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
		{"[Success] ownership", map[string]string{"uid": "1000", "gid": "0", "mode": "0750"}, Options{UID: ptr(1000), GID: ptr(0), Mode: ptr(uint32(0o750))}, false},
		{"[Success] gluster options", map[string]string{"gluster.performance.cache-size": "64MB"}, Options{Gluster: map[string]string{"performance.cache-size": "64MB"}}, false},
		{"[Success] existing volume and subdir", map[string]string{"volume": "shared", "subdir": "/apps/web/"}, Options{Volume: "shared", Subdir: "apps/web"}, false},
		{"[Error] unknown option", map[string]string{"replicas": "2"}, Options{}, true},
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

func FuzzParseOptions(f *testing.F) {
	f.Add("replica", "2")
	f.Add("subdir", "a/b")
	f.Add("mode", "0755")
	f.Fuzz(func(t *testing.T, key, value string) {
		o, err := ParseOptions(map[string]string{key: value})
		if err != nil {
			return
		}
		if o.Subdir != "" {
			t.Fatalf("subdir accepted without volume: %+v", o)
		}
	})
}
