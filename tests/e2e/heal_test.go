//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// healWithin bounds the heal of a few volumes' 50 small files once their
// server is back: the self-heal daemons heal at once when a brick comes
// back (7 s measured here), against 10 minutes for their periodic crawl.
const healWithin = time.Minute

// TestHealStartsAtOnce: a server's self-heal daemon that dies is started
// again for every volume, and a server coming back has every volume's
// changes healed within seconds.
func TestHealStartsAtOnce(t *testing.T) {
	c := testbed.NewCluster(t, "gte2e-heal", 62, 2)
	for _, s := range c.Servers {
		s.HealthCheck = true
	}
	c.StartAll(t)
	c.WaitPool(t, poolTimeout)
	ctx := context.Background()
	srv1, srv2 := c.Servers[0], c.Servers[1]
	volumes := []string{"heal-a", "heal-b", "heal-c"}
	for _, v := range volumes {
		if _, err := srv1.Client().Create(ctx, control.CreateRequest{Name: v, Replica: 2, Options: pluginLabel(v)}); err != nil {
			t.Fatalf("create %s: %v", v, err)
		}
		c.WaitBricksOnline(t, v, time.Minute)
	}

	t.Run("a dead self-heal daemon is started again", func(t *testing.T) {
		testbed.MustDocker(t, "exec", srv1.Name, "pkill", "-KILL", "-f", "process-name glustershd")
		for _, v := range volumes {
			testbed.Eventually(t, 30*time.Second, "the self-heal daemon of "+v+" on "+srv1.Name, func() error {
				st, err := srv1.CLI().Status(ctx, v)
				if err != nil {
					return err
				}
				for _, d := range st.SelfHeal {
					if d.Host == "localhost" && !d.Online {
						return fmt.Errorf("offline")
					}
				}
				return nil
			})
		}
	})

	t.Run("every volume heals once its server is back", func(t *testing.T) {
		mounts := map[string]string{}
		for _, v := range volumes {
			mounts[v] = testbed.MountFUSE(t, srv1.Address, v)
		}
		waitHealth(t, srv1, "healthy")
		srv2.Stop(t)
		// Heal answers stand for a few seconds (control's healAnswerFor).
		testbed.Eventually(t, 30*time.Second, "gluster-admin health failing with a server down", func() error {
			if out, err := srv1.Admin(ctx, "health"); err == nil {
				return fmt.Errorf("healthy: %s", out)
			}
			return nil
		})
		waitHealth(t, srv1, "unhealthy")
		for _, v := range volumes {
			for i := range 50 {
				if err := os.WriteFile(filepath.Join(mounts[v], fmt.Sprintf("f%d", i)), []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		srv2.Start(t)
		c.WaitPool(t, poolTimeout)
		back := time.Now()
		for _, v := range volumes {
			c.WaitBricksOnline(t, v, time.Minute)
		}
		online := time.Since(back)
		for _, v := range volumes {
			testbed.Eventually(t, healWithin, v+" healed", func() error {
				h, err := srv1.Client().Heal(ctx, v)
				if err == nil && !h.Done {
					err = fmt.Errorf("%d entries to heal", h.Pending)
				}
				return err
			})
		}
		t.Logf("bricks online %.1f s after the server's start, every volume healed after %.1f s", online.Seconds(), time.Since(back).Seconds())
		for _, s := range c.Servers {
			waitHealth(t, s, "healthy")
		}
		for _, v := range volumes {
			got, err := os.ReadFile(filepath.Join(srv2.BrickDir(v), "f49"))
			if err != nil || string(got) != v {
				t.Errorf("%s on %s's brick: %q, %v", v, srv2.Name, got, err)
			}
		}
	})
}

// waitHealth waits until Docker reports the server's health check status.
func waitHealth(t *testing.T, s *testbed.Server, status string) {
	t.Helper()
	testbed.Eventually(t, time.Minute, s.Name+" "+status, func() error {
		got, err := testbed.Docker(context.Background(), "inspect", "-f", "{{.State.Health.Status}}", s.Name)
		if err == nil && got != status {
			err = fmt.Errorf("health %s", got)
		}
		return err
	})
}
