//go:build e2e

package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// exampleChecks lists every file under examples/ and the test that
// exercises it: a new file fails TestExampleFilesCovered until it is
// checked somewhere.
var exampleChecks = map[string]string{
	"README.md":                         "links (TestExampleFilesCovered)",
	"asteroids/README.md":               "links (TestExampleFilesCovered)",
	"asteroids/docker-stack.yml":        "TestExampleStacks, TestExamplesOnGluster",
	"asteroids/nginx.conf":              "TestExampleScripts (nginx -t), TestExamplesOnGluster (served through it)",
	"asteroids/content/index.html":      "TestExampleFilesCovered (its scripts exist), TestExamplesOnGluster (served)",
	"asteroids/content/game.js":         "TestExampleScripts (node --check), TestExamplesOnGluster (served)",
	"asteroids/server/server.js":        "TestExampleScripts, TestExampleGameServer, TestExamplesOnGluster",
	"wordpress/README.md":               "links (TestExampleFilesCovered)",
	"wordpress/docker-stack.yml":        "TestExampleStacks, TestExamplesOnGluster (its volumes)",
	"servers/README.md":                 "links (TestExampleFilesCovered)",
	"servers/docker-stack.yml":          "TestExampleStacks",
	"monitoring/grafana-dashboard.json": "TestMetrics (its queries exist)",
	"monitoring/prometheus.yml":         "TestMetrics (promtool check config)",
	"monitoring/alerts.yml":             "TestMetrics (promtool check config), TestCapacitySize (promtool check rules, its metrics scraped)",
}

// TestExampleFilesCovered fails on a file under examples/ that no test
// exercises, a relative link in a README that leads nowhere, and a script an
// HTML page loads that is not there.
func TestExampleFilesCovered(t *testing.T) {
	dir := examplesDir(t)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := exampleChecks[f]; !ok {
			t.Errorf("examples/%s is exercised by no test: check it and list it in exampleChecks", f)
		}
	}
	for f := range exampleChecks {
		if !slices.Contains(files, f) {
			t.Errorf("examples/%s is listed in exampleChecks but does not exist", f)
		}
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	script := regexp.MustCompile(`<script src="([^"]+)"`)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(f, ".md"):
			for _, m := range link.FindAllStringSubmatch(string(data), -1) {
				target, anchor, _ := strings.Cut(m[1], "#")
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path := filepath.Join(dir, filepath.Dir(f), target)
				if _, err := os.Stat(path); err != nil {
					t.Errorf("examples/%s links to %s: %v", f, m[1], err)
				} else if anchor != "" && !slices.Contains(markdownAnchors(t, path), anchor) {
					t.Errorf("examples/%s links to %s: no such heading in %s", f, m[1], target)
				}
			}
		case strings.HasSuffix(f, ".html"):
			for _, m := range script.FindAllStringSubmatch(string(data), -1) {
				if _, err := os.Stat(filepath.Join(dir, filepath.Dir(f), m[1])); err != nil {
					t.Errorf("examples/%s loads %s: %v", f, m[1], err)
				}
			}
		}
	}
}

// markdownAnchors lists the anchors of a Markdown file's headings, made as
// GitHub makes them: lower case, punctuation dropped, spaces to hyphens.
func markdownAnchors(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var anchors []string
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(data), -1) {
		anchor := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				return r
			case r == ' ':
				return '-'
			}
			return -1
		}, strings.ToLower(strings.TrimSpace(m[1])))
		anchors = append(anchors, anchor)
	}
	return anchors
}
