// Command net-observe prints a live table of an application's TCP
// connections, or with --json their stats once, at exit (SIGINT/SIGTERM).
//
//	net-observe [--pid N] [--port N] [--interval D] [--json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"coolbpf.local/net-observe"
)

func ms(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *v)
}

func table(conns []netobserve.ConnectionStats) string {
	rows := [][]string{{"PID", "COMM", "LOCAL", "REMOTE", "PROTO", "IN", "OUT", "REQS", "P50ms", "P99ms"}}
	for _, c := range conns {
		proto := c.Protocol
		if c.Closed {
			proto += "*"
		}
		rows = append(rows, []string{
			fmt.Sprint(c.Pid), c.Comm, fmt.Sprintf("%s:%d", c.LocalAddr, c.LocalPort), fmt.Sprintf("%s:%d", c.RemoteAddr, c.RemotePort),
			proto, fmt.Sprint(c.BytesIn), fmt.Sprint(c.BytesOut), fmt.Sprint(c.Requests), ms(c.P50Ms), ms(c.P99Ms),
		})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, v := range r {
			if len(v) > widths[i] {
				widths[i] = len(v)
			}
		}
	}
	var b strings.Builder
	for _, r := range rows {
		line := ""
		for i, v := range r {
			line += fmt.Sprintf("%-*s  ", widths[i], v)
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}

func main() {
	pid := flag.Uint("pid", 0, "only this process (0: all)")
	port := flag.Uint("port", 0, "only connections with this local or peer port (0: all)")
	interval := flag.Duration("interval", time.Second, "table refresh")
	asJSON := flag.Bool("json", false, "print the connections as JSON at exit")
	flag.Parse()
	if *pid > 1<<32-1 || *port > 65535 {
		fmt.Fprintln(os.Stderr, "net-observe: --pid or --port out of range")
		os.Exit(2)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	obs, err := netobserve.Observe(netobserve.Options{Pid: uint32(*pid), Port: uint16(*port)})
	if err != nil {
		fmt.Fprintf(os.Stderr, "net-observe: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "net-observe: ready")

	tick := time.NewTicker(*interval)
	defer tick.Stop()
	tty := false
	if st, err := os.Stdout.Stat(); err == nil {
		tty = st.Mode()&os.ModeCharDevice != 0
	}
loop:
	for {
		select {
		case <-sigs:
			break loop
		case <-tick.C:
			if *asJSON {
				continue
			}
			conns, err := obs.Connections()
			if err != nil {
				fmt.Fprintf(os.Stderr, "net-observe: %v\n", err)
				continue
			}
			if tty {
				fmt.Print("\x1b[H\x1b[2J")
			}
			fmt.Println(table(conns))
		}
	}
	dropped, derr := obs.Dropped()
	cerr := obs.Close()
	conns, err := obs.Connections()
	for _, e := range []error{derr, cerr, err} {
		if e != nil {
			fmt.Fprintf(os.Stderr, "net-observe: %v\n", e)
			os.Exit(1)
		}
	}
	if *asJSON {
		if err := json.NewEncoder(os.Stdout).Encode(map[string]any{"connections": conns, "dropped": dropped}); err != nil {
			os.Exit(1)
		}
		return
	}
	fmt.Print(table(conns))
}
