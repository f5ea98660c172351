package glustercli

import (
	"encoding/hex"
	"errors"
	"testing"
)

// The values were read from a brick of GlusterFS 10.3 holding 3 MiB under a
// 20 MiB limit (soft limit unset, -1).
func TestFirstNumber(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  int64
		ok    bool
	}{
		{"[Success] limit-set: hard limit, soft limit", "0000000001400000ffffffffffffffff", 20 << 20, true},
		{"[Success] size: bytes, files, directories", "000000000030000000000000000000010000000000000004", 3 << 20, true},
		{"[Success] a count below zero, as quota leaves it after a race", "ffffffffffffff00", -256, true},
		{"[Error] too short", "00000030", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := hex.DecodeString(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			got, err := firstNumber(raw)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("firstNumber(%s) = %d, %v; want %d, ok %v", tc.value, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestQuotaLimitWithoutLocalBrick(t *testing.T) {
	v := Volume{Name: "v", ID: "a08085cc-ddc8-4979-84e8-caf6d5f98b53", Bricks: []Brick{{Host: "10.0.0.9", Path: t.TempDir()}}}
	if _, err := (LocalBricks{}).QuotaLimit(v, "/"); !errors.Is(err, ErrNoLocalBrick) {
		t.Errorf("QuotaLimit() on a directory without the volume's id = %v, want ErrNoLocalBrick", err)
	}
}
