package control

import (
	"errors"
	"slices"
	"testing"
)

func TestPlaceBricks(t *testing.T) {
	tests := []struct {
		name       string
		replica    int
		candidates []string
		load       map[string]int
		want       []string
		err        error
	}{
		{"[Success] empty cluster sorted by address", 2, []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, nil, []string{"10.0.0.1", "10.0.0.2"}, nil},
		{"[Success] fewest bricks first", 2, []string{"a", "b", "c"}, map[string]int{"a": 5, "b": 1, "c": 0}, []string{"c", "b"}, nil},
		{"[Success] ties by address", 3, []string{"c", "b", "a"}, map[string]int{"a": 1, "b": 1, "c": 1}, []string{"a", "b", "c"}, nil},
		{"[Error] not enough servers", 3, []string{"a", "b"}, nil, nil, ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := placeBricks(tc.replica, tc.candidates, tc.load)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("placeBricks() = %v, want %v", got, tc.want)
			}
		})
	}
}
