package glustercli

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoSuchPath is a quota limit on a directory the volume does not hold.
var ErrNoSuchPath = errors.New("no such directory in the gluster volume")

// QuotaLimit is one directory's hard limit, as `volume quota VOL list`
// reports it. Path is absolute within the volume ("/" is its root).
type QuotaLimit struct {
	Path string
	Size uint64 // the hard limit, in bytes
	Used uint64 // bytes the directory holds, as quota last counted them
}

// BrickSpace is the file system under one brick, as `volume status VOL
// detail` reports it.
type BrickSpace struct {
	Volume string
	Host   string
	Path   string
	Size   uint64 // total bytes of the brick's file system
	Free   uint64 // free bytes of the brick's file system
}

type xmlQuotaAnswer struct {
	Limits []struct {
		Path      string `xml:"path"`
		HardLimit string `xml:"hard_limit"`
		Used      string `xml:"used_space"`
	} `xml:"volQuota>limit"`
}

type xmlDetailAnswer struct {
	Volumes []struct {
		Name  string `xml:"volName"`
		Nodes []struct {
			Hostname  string `xml:"hostname"`
			Path      string `xml:"path"`
			SizeTotal string `xml:"sizeTotal"`
			SizeFree  string `xml:"sizeFree"`
		} `xml:"node"`
	} `xml:"volStatus>volumes>volume"`
}

// QuotaEnable turns quota accounting on for a started volume, starting the
// quota daemons; a volume with quota on already is fine.
func (c *CLI) QuotaEnable(ctx context.Context, name string) error {
	_, err := c.run(ctx, "volume", "quota", name, "enable")
	var cerr *Error
	if errors.As(err, &cerr) && strings.Contains(cerr.Message, "already enabled") {
		return nil
	}
	return err
}

// QuotaLimitUsage sets the hard limit of a directory of a volume with quota
// on. The error wraps ErrNoSuchPath for a directory the volume lacks.
func (c *CLI) QuotaLimitUsage(ctx context.Context, name, path string, size uint64) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("quota path %q: it must be absolute within the volume", path)
	}
	// glusterd looks the path up through quota's auxiliary mount, which
	// connects to the bricks a moment after quota is turned on
	// ("Transport endpoint is not connected" meanwhile). Nothing was set
	// then, and setting the same limit twice changes nothing: ask again.
	retries, cancel := context.WithTimeout(ctx, c.retries)
	defer cancel()
	var err error
	var cerr *Error
	for range transientRetry.Attempts(retries) {
		_, err = c.run(ctx, "volume", "quota", name, "limit-usage", path, strconv.FormatUint(size, 10))
		if !errors.As(err, &cerr) || !strings.Contains(cerr.Message, "Transport endpoint is not connected") {
			break
		}
		c.logger.Info("quota's auxiliary mount is not connected yet, retrying", "volume", name, "path", path)
	}
	if errors.As(err, &cerr) && strings.Contains(cerr.Message, "No such file or directory") {
		return fmt.Errorf("%w: %s in volume %s: %w", ErrNoSuchPath, path, name, err)
	}
	return err
}

// QuotaList reports every limit of a volume; a volume without quota, or
// without limits, has none.
func (c *CLI) QuotaList(ctx context.Context, name string) ([]QuotaLimit, error) {
	out, err := c.run(ctx, "volume", "quota", name, "list")
	var cerr *Error
	if errors.As(err, &cerr) && (strings.Contains(cerr.Message, "No quota configured") || strings.Contains(cerr.Message, "Quota is disabled")) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var answer xmlQuotaAnswer
	if err := xml.Unmarshal(out.raw, &answer); err != nil {
		return nil, fmt.Errorf("gluster volume quota %s list: %w", name, err)
	}
	limits := make([]QuotaLimit, 0, len(answer.Limits))
	for _, l := range answer.Limits {
		size, err1 := strconv.ParseUint(strings.TrimSpace(l.HardLimit), 10, 64)
		used, err2 := strconv.ParseUint(strings.TrimSpace(l.Used), 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("gluster volume quota %s list: limit of %s: %w", name, l.Path, err)
		}
		limits = append(limits, QuotaLimit{Path: l.Path, Size: size, Used: used})
	}
	return limits, nil
}

// BrickSpaces reports the file systems of the bricks of a started volume,
// or of every started volume for name "all", in one command.
func (c *CLI) BrickSpaces(ctx context.Context, name string) ([]BrickSpace, error) {
	out, err := c.run(ctx, "volume", "status", name, "detail")
	if err != nil {
		return nil, err
	}
	var answer xmlDetailAnswer
	if err := xml.Unmarshal(out.raw, &answer); err != nil {
		return nil, fmt.Errorf("gluster volume status %s detail: %w", name, err)
	}
	var spaces []BrickSpace
	for _, v := range answer.Volumes {
		for _, n := range v.Nodes {
			if n.SizeTotal == "" {
				continue // a daemon's row, or a brick that did not answer
			}
			size, err1 := strconv.ParseUint(strings.TrimSpace(n.SizeTotal), 10, 64)
			free, err2 := strconv.ParseUint(strings.TrimSpace(n.SizeFree), 10, 64)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("gluster volume status %s detail: brick %s:%s: %w", name, n.Hostname, n.Path, err)
			}
			spaces = append(spaces, BrickSpace{Volume: v.Name, Host: n.Hostname, Path: n.Path, Size: size, Free: free})
		}
	}
	return spaces, nil
}
