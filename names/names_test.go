package names

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateVolume(t *testing.T) {
	tests := []struct {
		name  string
		input string
		ok    bool
	}{
		{"[Success] letters", "data", true},
		{"[Success] digits dash underscore", "web_content-2", true},
		{"[Success] leading digit", "1st", true},
		{"[Success] longest", strings.Repeat("a", MaxVolumeLength), true},
		{"[Error] empty", "", false},
		{"[Error] dot", "a.b", false},
		{"[Error] path", "../x", false},
		{"[Error] slash", "a/b", false},
		{"[Error] too long", strings.Repeat("a", 300), false},
		{"[Error] reserved", "all", false},
		{"[Error] leading dash", "-x", false},
		{"[Error] leading underscore", "_x", false},
		{"[Error] space", "a b", false},
		{"[Error] newline", "a\n", false},
		{"[Error] unicode", "daté", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateVolume(tc.input)
			if tc.ok && err != nil {
				t.Fatalf("ValidateVolume(%q) = %v, want nil", tc.input, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidateVolume(%q) = %v, want ErrInvalid", tc.input, err)
			}
		})
	}
}

func TestFromDocker(t *testing.T) {
	tests := []struct {
		name, docker, gluster string
	}{
		{"[Success] plain", "data", "data"},
		{"[Success] stack prefix", "web_content", "web_content"},
		{"[Success] dots", "my.app.data", "my__app__data"},
		{"[Success] dash", "a-b.c", "a-b__c"},
		{"[Error] double underscore", "a__b", ""},
		{"[Error] underscore before dot", "a_.b", ""},
		{"[Success] underscore after dot", "a._b", "a___b"},
		{"[Error] slash", "a/b", ""},
		{"[Error] leading dot", ".a", ""},
		{"[Error] reserved", "all", ""},
		{"[Error] too long after mapping", strings.Repeat("a.", 64) + "a", ""},
		{"[Error] empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromDocker(tc.docker)
			if tc.gluster == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("FromDocker(%q) = %q, %v; want ErrInvalid", tc.docker, got, err)
				}
				return
			}
			if err != nil || got != tc.gluster {
				t.Fatalf("FromDocker(%q) = %q, %v; want %q", tc.docker, got, err, tc.gluster)
			}
			if back := ToDocker(got); back != tc.docker {
				t.Errorf("ToDocker(%q) = %q, want %q", got, back, tc.docker)
			}
		})
	}
}

// FuzzFromDocker checks the name mapping both ways: a name is refused
// with ErrInvalid, or it maps onto a valid gluster name that maps back to
// it unchanged, so no two Docker names share a gluster volume.
func FuzzFromDocker(f *testing.F) {
	for _, s := range []string{"data", "my.app", "a__b", "a_.b", "a._b", "x", "all", "stack_web.data", "-a", strings.Repeat("a.", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, docker string) {
		gluster, err := FromDocker(docker)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("FromDocker(%q) = %v, want ErrInvalid", docker, err)
			}
			return
		}
		if err := ValidateVolume(gluster); err != nil {
			t.Fatalf("FromDocker(%q) = %q, not a valid gluster name: %v", docker, gluster, err)
		}
		if back := ToDocker(gluster); back != docker {
			t.Fatalf("FromDocker(%q) = %q, which maps back to %q", docker, gluster, back)
		}
		if again, err := FromDocker(ToDocker(gluster)); err != nil || again != gluster {
			t.Fatalf("FromDocker is not stable for %q: %q, %v", docker, again, err)
		}
	})
}
