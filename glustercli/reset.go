package glustercli

import (
	"context"
	"fmt"
	"strings"
)

// Reset resets one volume option to its default; for a user.* option that
// removes it.
func (c *CLI) Reset(ctx context.Context, name, option string) error {
	if strings.HasPrefix(name, "-") || strings.HasPrefix(option, "-") {
		// The CLI would read either as one of its own options.
		return fmt.Errorf("gluster volume reset %q %q: an argument starts with '-'", name, option)
	}
	_, err := c.run(ctx, "volume", "reset", name, option)
	return err
}
