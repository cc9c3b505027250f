package jitter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// expected reads tests/expected/NAME: the output every language's app prints for the same input.
func expected(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "tests", "expected", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func addr(prefix ...byte) (a [16]byte) {
	copy(a[:], prefix)
	return a
}

func TestFormatEvent(t *testing.T) {
	ev4 := SlowRead{TsNs: 123456789012, DelayNs: 1000265000, Pid: 4242, QueueCPU: 1, ReadCPU: 0, Family: 2,
		Sport: 47001, Dport: 49246, Saddr: addr(127, 0, 0, 1), Daddr: addr(10, 199, 0, 2), Comm: "python3"}
	ev6 := SlowRead{TsNs: 5, DelayNs: 150000000, Pid: 1, QueueCPU: 0, ReadCPU: 1, Family: 10, Sport: 443, Dport: 50000,
		Saddr: addr(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
		Daddr: addr(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2), Comm: `srv "x"\`}
	for name, ev := range map[string]SlowRead{"event4": ev4, "event6": ev6} {
		if got, want := FormatEvent(ev, false), expected(t, name+".txt"); got != want {
			t.Errorf("%s text:\n got %s\nwant %s", name, got, want)
		}
		if got, want := FormatEvent(ev, true), expected(t, name+".json"); got != want {
			t.Errorf("%s json:\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestRenderHistogram(t *testing.T) {
	counts := make([]uint64, 32)
	counts[0], counts[3], counts[19] = 3, 1, 2
	cases := map[string]string{
		"histogram.txt":        RenderHistogram(counts, false),
		"histogram.json":       RenderHistogram(counts, true),
		"histogram-empty.txt":  RenderHistogram(make([]uint64, 32), false),
		"histogram-empty.json": RenderHistogram(make([]uint64, 32), true),
	}
	for name, got := range cases {
		if want := expected(t, name); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(nil)
	if err != nil || o != (Options{ThresholdMs: 100}) {
		t.Errorf("defaults: %+v %v", o, err)
	}
	o, err = ParseOptions([]string{"--threshold", "2.5", "--port", "8080", "--duration", "3", "--interval", "1", "--json"})
	if err != nil || o != (Options{ThresholdMs: 2.5, Port: 8080, DurationS: 3, IntervalS: 1, JSON: true}) {
		t.Errorf("all set: %+v %v", o, err)
	}
	bad := map[string][]string{
		"--port":                    {"--port", "70000"},
		"--port: expected an int":   {"--port", "1.5"},
		"got nothing":               {"--threshold"},
		"--threshold: expected":     {"--threshold", "-1"},
		"unknown argument: --bogus": {"--bogus"},
	}
	for message, args := range bad {
		if _, err := ParseOptions(args); err == nil || !strings.Contains(err.Error(), message) {
			t.Errorf("%v: got %v, want an error with %q", args, err, message)
		}
	}
}
