package glustercli

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// cliOutput is the envelope of every `gluster --xml` answer. The command's
// exit status says nothing reliable; opRet does.
type cliOutput struct {
	OpRet    int    `xml:"opRet"`
	OpErrno  int    `xml:"opErrno"`
	OpErrstr string `xml:"opErrstr"`
	Output   string `xml:"output"`
	VolInfo  struct {
		Volumes []xmlVolume `xml:"volumes>volume"`
	} `xml:"volInfo"`
	VolStatus struct {
		Volumes []xmlVolumeStatus `xml:"volumes>volume"`
	} `xml:"volStatus"`
	Peers    []xmlPeer `xml:"peerStatus>peer"`
	HealInfo struct {
		Bricks []xmlBrickHeal `xml:"bricks>brick"`
	} `xml:"healInfo"`
	Rebalance xmlRebalance `xml:"volRebalance"`
	// raw is the whole answer, for the commands whose parts are read
	// by their own files (quota.go).
	raw []byte
}

type xmlVolume struct {
	Name      string `xml:"name"`
	ID        string `xml:"id"`
	StatusStr string `xml:"statusStr"`
	Replica   int    `xml:"replicaCount"`
	Arbiter   int    `xml:"arbiterCount"`
	TypeStr   string `xml:"typeStr"`
	Bricks    []struct {
		Name      string `xml:"name"`
		IsArbiter int    `xml:"isArbiter"`
	} `xml:"bricks>brick"`
	Options []struct {
		Name  string `xml:"name"`
		Value string `xml:"value"`
	} `xml:"options>option"`
}

type xmlVolumeStatus struct {
	Name  string `xml:"volName"`
	Nodes []struct {
		Hostname string `xml:"hostname"`
		Path     string `xml:"path"`
		Status   int    `xml:"status"`
		Port     string `xml:"port"`
		PID      int    `xml:"pid"`
		Clients  []struct {
			Hostname string `xml:"hostname"`
		} `xml:"clientsStatus>client"`
	} `xml:"node"`
}

type xmlPeer struct {
	UUID      string   `xml:"uuid"`
	Hostname  string   `xml:"hostname"`
	Hostnames []string `xml:"hostnames>hostname"`
	Connected int      `xml:"connected"`
	StateStr  string   `xml:"stateStr"`
}

// xmlBrickHeal keeps the counts as text: a brick that could not be asked
// has none, and gluster has printed "-" for them.
type xmlBrickHeal struct {
	Name       string `xml:"name"`
	Status     string `xml:"status"`
	Pending    string `xml:"numberOfEntriesInHealPending"`
	SplitBrain string `xml:"numberOfEntriesInSplitBrain"`
	Healing    string `xml:"numberOfEntriesPossiblyHealing"`
}

func decode(data []byte) (*cliOutput, error) {
	var out cliOutput
	if err := xml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("reading gluster's XML answer: %w (answer began %q)", err, head(data))
	}
	out.raw = data
	return &out, nil
}

func head(data []byte) string {
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func (v xmlVolume) volume() Volume {
	vol := Volume{
		Name:    v.Name,
		ID:      v.ID,
		Status:  v.StatusStr,
		Type:    v.TypeStr,
		Replica: v.Replica,
		Arbiter: v.Arbiter,
		Options: make(map[string]string, len(v.Options)),
	}
	for _, b := range v.Bricks {
		host, path, _ := strings.Cut(b.Name, ":")
		vol.Bricks = append(vol.Bricks, Brick{Host: host, Path: path, Arbiter: b.IsArbiter == 1})
	}
	for _, o := range v.Options {
		vol.Options[o.Name] = o.Value
	}
	return vol
}

// brickConnected is the status of a brick whose entries were counted; any
// other status is gluster's reason why they were not.
const brickConnected = "Connected"

func (b xmlBrickHeal) brickHeal() (BrickHeal, error) {
	heal := BrickHeal{Brick: b.Name, Connected: b.Status == brickConnected}
	if !heal.Connected {
		return heal, nil
	}
	for _, n := range []struct {
		text string
		dst  *int
	}{{b.Pending, &heal.Pending}, {b.SplitBrain, &heal.SplitBrain}, {b.Healing, &heal.PossiblyHealing}} {
		v, err := strconv.Atoi(strings.TrimSpace(n.text))
		if err != nil {
			return BrickHeal{}, fmt.Errorf("brick %s: entry count %q is not a number", b.Name, n.text)
		}
		*n.dst = v
	}
	return heal, nil
}

// selfHealHost and quotaHost are the hostnames gluster gives the rows of
// the self-heal and quota daemons in `volume status`; their path holds the
// node instead.
const (
	selfHealHost = "Self-heal Daemon"
	quotaHost    = "Quota Daemon"
)

func (s xmlVolumeStatus) status() Status {
	st := Status{Volume: s.Name}
	for _, n := range s.Nodes {
		daemon := Daemon{Host: n.Path, Online: n.Status == 1, PID: n.PID}
		switch {
		case n.Hostname == selfHealHost:
			st.SelfHeal = append(st.SelfHeal, daemon)
			continue
		case n.Hostname == quotaHost:
			st.Quota = append(st.Quota, daemon)
			continue
		case !strings.HasPrefix(n.Path, "/"):
			continue // another daemon's row (bitrot, snapshots, ...): no brick
		}
		b := BrickStatus{Host: n.Hostname, Path: n.Path, Online: n.Status == 1, PID: n.PID}
		fmt.Sscanf(n.Port, "%d", &b.Port)
		for _, c := range n.Clients {
			b.Clients = append(b.Clients, c.Hostname)
		}
		st.Bricks = append(st.Bricks, b)
	}
	return st
}
