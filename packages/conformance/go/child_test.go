// The "exit" cases: a process of its own (this test binary again, with
// COOLBPF_CONFORMANCE_CHILD naming the scenario) that reads events with each
// form, stops, and returns without Close. It must end by itself with no
// goroutine of the runtime left running (a leak is reported on stderr).
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"
)

// runChild is the child's whole life: the scenario's function, then exit.
func runChild(which string) int {
	f, ok := children[which]
	if !ok {
		fmt.Fprintf(os.Stderr, "no child %q\n", which)
		return 2
	}
	return f()
}

var children = map[string]func() int{}

// childReads triggers 3 events and reads them with Read until it cancels,
// then triggers 2 more and takes them with Consume until it cancels; prints
// what it read as JSON. It runs on the main thread.
func childReads(trigger func(n int), read func(ctx context.Context) (uint64, error), consume func(ctx context.Context, f func(seq uint64)) error) int {
	baseline := runtime.NumGoroutine()
	trigger(3)
	out := struct {
		Iterated   []uint64 `json:"iterated"`
		Subscribed []uint64 `json:"subscribed"`
	}{Iterated: []uint64{}, Subscribed: []uint64{}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	for {
		seq, err := read(ctx)
		if err != nil {
			if ctx.Err() == nil || len(out.Iterated) != 3 {
				fmt.Fprintln(os.Stderr, "read:", err)
				cancel()
				return 1
			}
			break
		}
		out.Iterated = append(out.Iterated, seq)
		if len(out.Iterated) == 3 {
			cancel()
		}
	}
	var mu sync.Mutex
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	done := make(chan error)
	go func() {
		done <- consume(ctx, func(seq uint64) {
			mu.Lock()
			defer mu.Unlock()
			out.Subscribed = append(out.Subscribed, seq)
			if len(out.Subscribed) == 2 {
				cancel()
			}
		})
	}()
	trigger(2)
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "consume:", err)
		return 1
	}
	cancel()
	// every goroutine the runtime started has ended
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<16)
		fmt.Fprintf(os.Stderr, "%d goroutines left running, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		return 1
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return 0
}

// exitCase runs the child for a scenario and checks it ended by itself in time.
func exitCase(t *testing.T, c Case, scenario string) {
	exitCode, within := int(jint(t, get(c, "expect", "exitCode"))), time.Duration(jint(t, get(c, "expect", "withinMs")))*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "COOLBPF_CONFORMANCE_CHILD="+scenario)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("still running after %v", within)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	eq(t, "exit code", code, exitCode)
	eq(t, "stderr", stderr.String(), "")
	eq(t, "stdout", stdout.String(), "{\"iterated\":[0,1,2],\"subscribed\":[3,4]}\n")
}
