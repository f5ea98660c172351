package control

import (
	"strings"
	"testing"
)

func TestValidateToken(t *testing.T) {
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"[Success] 64 hex digits", strings.Repeat("0f", 32), true},
		{"[Success] just long enough", strings.Repeat("x", MinTokenLength), true},
		{"[Error] one short", strings.Repeat("x", MinTokenLength-1), false},
		{"[Error] a word", "demo-token", false},
		{"[Error] multibyte characters counted as characters", strings.Repeat("é", MinTokenLength-1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateToken(tc.token)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidateToken(%q) = %v", tc.token, err)
			}
			if err != nil && (!strings.Contains(err.Error(), "openssl rand -hex 32") || strings.Contains(err.Error(), tc.token)) {
				t.Errorf("error %q should say how to make a token and not repeat it", err)
			}
		})
	}
}
