package glustercli

// Volume is a gluster volume as `volume info` describes it.
type Volume struct {
	Name    string
	ID      string
	Status  string // Created, Started or Stopped
	Type    string // Replicate, Distribute, ...
	Replica int
	Arbiter int
	Bricks  []Brick
	Options map[string]string
}

// Started reports whether the volume serves clients.
func (v Volume) Started() bool { return v.Status == "Started" }

// Brick is one brick of a volume, in the volume's brick order.
type Brick struct {
	Host    string
	Path    string
	Arbiter bool
}

// Status is what `volume status VOL clients` reports: the brick processes,
// the clients connected to each, and the self-heal and quota daemons, which
// are clients of every brick too.
type Status struct {
	Volume   string
	Bricks   []BrickStatus
	SelfHeal []Daemon
	Quota    []Daemon // one per server while the volume's quota is on
}

// BrickStatus is one brick process. Clients holds "address:port" of every
// connection to the brick, self-heal and quota daemons included.
type BrickStatus struct {
	Host    string
	Path    string
	Online  bool
	Port    int
	PID     int
	Clients []string
}

// Daemon is a per-node gluster service such as the self-heal daemon. Host is
// "localhost" for the node that answered.
type Daemon struct {
	Host   string
	Online bool
	PID    int
}

// Peer is a member of the trusted storage pool. The node that answered is
// listed with Hostname "localhost". Hostnames holds every name the pool
// knows the peer by: the addresses it was probed with, and names found by
// reverse lookup of the addresses it connected from.
type Peer struct {
	UUID      string
	Hostname  string
	Hostnames []string
	Connected bool
	State     string
}

// BrickHeal is one brick's part of `volume heal VOL info summary`: the
// entries it holds that other bricks of its replica set still lack. The
// counts are known only for a Connected brick.
type BrickHeal struct {
	Brick           string // HOST:PATH
	Connected       bool
	Pending         int // entries waiting for self-heal
	SplitBrain      int // entries self-heal cannot repair without help
	PossiblyHealing int // entries self-heal may be repairing right now
}
