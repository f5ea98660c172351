package control

import (
	"fmt"
	"unicode/utf8"
)

// MinTokenLength is the shortest control API token the server and the plugin
// accept. The token is all that guards the API, which creates and deletes
// volumes: it must be too long to guess, not a word.
const MinTokenLength = 16

// TokenHint says how to make a good token.
const TokenHint = "make one with: openssl rand -hex 32"

// ValidateToken checks that a non-empty control API token is long enough.
func ValidateToken(token string) error {
	if n := utf8.RuneCountInString(token); n < MinTokenLength {
		return fmt.Errorf("the control API token has %d characters, fewer than %d: use a long random one, the same on every server and plugin (%s)", n, MinTokenLength, TokenHint)
	}
	return nil
}
