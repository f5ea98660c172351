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
