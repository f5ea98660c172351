package logging

import "time"

// Steps records how long each step of an operation took, as key-value
// pairs for the operation's one log line: where its time went.
type Steps struct {
	last  time.Time
	attrs []any
}

// StartSteps starts timing the first step now.
func StartSteps() *Steps { return &Steps{last: time.Now()} }

// Step records the time since the step before as name, to the millisecond.
func (s *Steps) Step(name string) {
	now := time.Now()
	s.attrs = append(s.attrs, name, now.Sub(s.last).Round(time.Millisecond))
	s.last = now
}

// Attrs returns the steps recorded so far, for a log call.
func (s *Steps) Attrs() []any { return s.attrs }
