package bench

import "strings"

// batchAttempts is how many times glusterBatch runs commands glusterd
// refused as busy: its transactions take a second or less.
const batchAttempts = 5

// busyCommands reads a batch's answers, one line per command, each
// starting with "volume": ok is true when every command succeeded or was
// refused because another transaction was in progress, and busy lists the
// latter.
func busyCommands(cmds []string, out string) (busy []string, ok bool) {
	var answers []string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "volume ") {
			answers = append(answers, line)
		}
	}
	if len(answers) != len(cmds) {
		return nil, false
	}
	for i, a := range answers {
		switch {
		case strings.Contains(a, "Another transaction is in progress"):
			busy = append(busy, cmds[i])
		case !strings.Contains(a, "success"):
			return nil, false
		}
	}
	return busy, true
}
