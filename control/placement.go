package control

import (
	"fmt"
	"slices"
	"strings"
)

// placeBricks picks replica distinct servers among candidates, fewest bricks
// first, ties broken by address so that every server computes the same
// placement. load counts the bricks each server already holds.
func placeBricks(replica int, candidates []string, load map[string]int) ([]string, error) {
	if len(candidates) < replica {
		return nil, fmt.Errorf("%w: replica %d needs %d connected servers, found %d (%s)",
			ErrUnavailable, replica, replica, len(candidates), strings.Join(candidates, ", "))
	}
	sorted := slices.Clone(candidates)
	slices.SortFunc(sorted, func(a, b string) int {
		if load[a] != load[b] {
			return load[a] - load[b]
		}
		return strings.Compare(a, b)
	})
	return sorted[:replica], nil
}
