package control

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// refusalLogInterval is how often at most a source's refused requests are
// logged: a plugin with a wrong token, or someone guessing, shows in the log
// within a minute, and a flood of requests cannot flood the log.
const refusalLogInterval = time.Minute

// maxRefusalSources bounds the sources tracked at once. Beyond it, refusals
// from sources not yet tracked share one entry (otherSources), so that many
// addresses neither grow the table nor the log without bound.
const maxRefusalSources = 1024

// otherSources stands for the sources that did not fit in the table.
const otherSources = "other"

// refusalLog logs requests refused for a missing or wrong token: one line
// per source address and interval, saying how many refusals of that source
// were not logged since its previous line.
type refusalLog struct {
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	sources map[string]*refusals
}

// refusals are a source's refusals since its last logged one.
type refusals struct {
	logged     time.Time
	suppressed int
}

func newRefusalLog(logger *slog.Logger, now func() time.Time) *refusalLog {
	return &refusalLog{logger: logger, now: now, sources: map[string]*refusals{}}
}

// refused records a refused request and logs it unless its source was
// logged less than refusalLogInterval ago.
func (l *refusalLog) refused(r *http.Request) {
	source, suppressed, log := l.count(sourceOf(r))
	if !log {
		return
	}
	l.logger.Warn("control API request refused: missing or wrong token",
		"source", source, "method", r.Method, "path", r.URL.Path,
		"suppressed", suppressed, "interval", refusalLogInterval)
}

// count records a refusal from source and says whether to log it, under
// which source, and how many refusals went unlogged before it.
func (l *refusalLog) count(source string) (string, int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if _, tracked := l.sources[source]; !tracked && len(l.sources) >= maxRefusalSources {
		l.forgetQuiet(now)
		if len(l.sources) >= maxRefusalSources {
			source = otherSources
		}
	}
	s, ok := l.sources[source]
	if !ok {
		l.sources[source] = &refusals{logged: now}
		return source, 0, true
	}
	if now.Sub(s.logged) < refusalLogInterval {
		s.suppressed++
		return source, 0, false
	}
	suppressed := s.suppressed
	*s = refusals{logged: now}
	return source, suppressed, true
}

// forgetQuiet drops the sources whose last line is older than the
// interval and that were refused nothing since.
func (l *refusalLog) forgetQuiet(now time.Time) {
	for source, s := range l.sources {
		if now.Sub(s.logged) >= refusalLogInterval && s.suppressed == 0 {
			delete(l.sources, source)
		}
	}
}

// sourceOf is the address a request came from, without its port.
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
