package glustercli

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestQuotaList(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{
		"volume quota q1 list": {"quota-list.xml"},
		"volume quota q2 list": {"quota-list-none.xml"},
	})
	got, err := cli.QuotaList(context.Background(), "q1")
	if err != nil {
		t.Fatal(err)
	}
	want := []QuotaLimit{
		{Path: "/", Size: 1 << 30, Used: 27262976},
		{Path: "/apps/db", Size: 3 << 20, Used: 0},
		{Path: "/apps/web", Size: 5 << 20, Used: 2 << 20},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("limits: got %+v, want %+v", got, want)
	}
	if got, err := cli.QuotaList(context.Background(), "q2"); err != nil || len(got) != 0 {
		t.Errorf("volume without quota: got %+v, %v; want none", got, err)
	}
}

func TestQuotaCommands(t *testing.T) {
	cli, s := newScripted(t, map[string][]string{
		"volume quota q1 enable":                       {"quota-enable-again.xml"},
		"volume quota q2 enable":                       {"quota-enable-stopped.xml"},
		"volume quota q1 limit-usage /missing 5242880": {"quota-limit-missing.xml"},
		// Right after quota is turned on, its mount is not connected yet.
		"volume quota q1 limit-usage /apps/web 5242880": {"quota-limit-not-connected.xml", "quota-limit.xml"},
	})
	ctx := context.Background()
	tests := []struct {
		name    string
		run     func() error
		wantErr error // nil: success
		anyErr  bool
	}{
		{name: "[Success] enabling again", run: func() error { return cli.QuotaEnable(ctx, "q1") }},
		{name: "[Error] enabling a stopped volume", run: func() error { return cli.QuotaEnable(ctx, "q2") }, anyErr: true},
		{name: "[Success] asked again while quota's mount connects", run: func() error { return cli.QuotaLimitUsage(ctx, "q1", "/apps/web", 5<<20) }},
		{name: "[Error] a missing directory", run: func() error { return cli.QuotaLimitUsage(ctx, "q1", "/missing", 5<<20) }, wantErr: ErrNoSuchPath},
		{name: "[Error] a relative path runs nothing", run: func() error { return cli.QuotaLimitUsage(ctx, "q1", "apps", 1) }, anyErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("got %v, want %v", err, tc.wantErr)
			case tc.anyErr && err == nil:
				t.Error("no error")
			case tc.wantErr == nil && !tc.anyErr && err != nil:
				t.Errorf("unexpected error %v", err)
			}
		})
	}
	if len(s.calls) != 5 {
		t.Errorf("commands run: %q; the relative path must run none", s.calls)
	}
}

func TestBrickSpaces(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{"volume status q1 detail": {"status-detail.xml"}})
	got, err := cli.BrickSpaces(context.Background(), "q1")
	if err != nil {
		t.Fatal(err)
	}
	want := []BrickSpace{{Volume: "q1", Host: "172.30.224.11", Path: "/bricks/q1", Size: 270553174016, Free: 251996573696}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
