package control

// FavoriteChildOption is how gluster resolves a file whose copies were
// changed apart (split-brain) without an operator.
const FavoriteChildOption = "cluster.favorite-child-policy"

// unattendedFavoriteChild is FavoriteChildOption for layouts without a
// third voter: the copy changed last wins, as its writer expects, instead
// of the file answering EIO until someone heals it by hand. The other
// copy's changes are lost (docs/failures.md says which).
const unattendedFavoriteChild = "mtime"

// healTimeoutOption is how often the self-heal daemons look for entries to
// heal besides reacting to a brick coming back. healCrawl, against 600 s by
// default: a server that was frozen, rather than stopped, never
// disconnected from the daemons, so nothing heals its missed writes until
// that crawl (measured: 20 entries pending a minute after a freeze, none 2 s
// after it with 10 s; docs/failures.md).
const (
	healTimeoutOption = "cluster.heal-timeout"
	healCrawl         = "10"
)

// WitnessOption records on a volume the thin arbiter it was created with,
// SERVER:PATH: glusterd's XML answers do not show it.
const WitnessOption = "user.docker-witness"

// WitnessDir is where a witness keeps the replica states of every volume
// it serves, one small file each.
const WitnessDir = "/witness"

// WithWitness has replica 2 volumes created with a thin arbiter on the
// witness at address: the third voter that keeps two copies from serving
// stale data or splitting.
func WithWitness(address string) ServiceOption {
	return func(s *Service) { s.witness = address }
}

// thinArbiter is the thin arbiter a new volume of replica count replica and
// bricks bricks gets: one replica set of two without an arbiter brick, on a
// service with a witness.
func (s *Service) thinArbiter(replica, bricks int, arbiter bool) string {
	if s.witness == "" || replica != 2 || bricks > replica || arbiter {
		return ""
	}
	return s.witness + ":" + WitnessDir
}

// layoutOptions are the options a new volume gets for its layout, under
// those its creator asked for.
func layoutOptions(replica int, arbiter bool, witness string) map[string]string {
	options := map[string]string{}
	if replica > 1 {
		options[healTimeoutOption] = healCrawl
	}
	switch {
	case witness != "":
		options[WitnessOption] = witness
	case replica == 2 && !arbiter:
		options[FavoriteChildOption] = unattendedFavoriteChild
	}
	return options
}
