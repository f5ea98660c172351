package testbed

import (
	"os"
	"strings"
)

// tail returns the last n lines of a file, for failure reports; nothing if
// it cannot be read.
func tail(file string, n int) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
