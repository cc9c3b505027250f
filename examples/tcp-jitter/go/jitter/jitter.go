// Package jitter is tcp-jitter's core, usable as a library: options, event
// formatting and the delay histogram. The command (../main.go) wires it to
// the BPF program.
package jitter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
)

// Usage is the command line's help.
const Usage = `usage: tcp-jitter [--threshold MS] [--port N] [--duration S] [--interval S] [--json]
  --threshold MS  report reads at least MS milliseconds after the data was queued (default 100)
  --port N        only sockets whose local or remote port is N
  --duration S    stop after S seconds (default: until Ctrl-C)
  --interval S    print the delay histogram every S seconds too (default: only on exit)
  --json          one JSON object per line`

// Options are what the command line sets.
type Options struct {
	ThresholdMs float64 // report reads at least this late
	Port        uint16  // only sockets with this local or remote port (0: all)
	DurationS   float64 // stop after this long (0: until Ctrl-C / SIGTERM)
	IntervalS   float64 // print the histogram this often too (0: only on exit)
	JSON        bool    // JSON lines instead of text
}

func number(flag string, args []string, i int, max float64) (float64, error) {
	value := "nothing"
	n := math.NaN()
	if i < len(args) {
		value = args[i]
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			n = v
		}
	}
	if math.IsNaN(n) || math.IsInf(n, 0) || n < 0 || n > max {
		return 0, fmt.Errorf("%s: expected a number from 0 to %g, got %s", flag, max, value)
	}
	return n, nil
}

// ParseOptions parses the arguments after the program name.
func ParseOptions(args []string) (Options, error) {
	o := Options{ThresholdMs: 100}
	for i := 0; i < len(args); i++ {
		var err error
		var n float64
		switch args[i] {
		case "--threshold":
			i++
			o.ThresholdMs, err = number("--threshold", args, i, 3_600_000)
		case "--port":
			i++
			if n, err = number("--port", args, i, 65535); err == nil {
				if n != math.Trunc(n) {
					err = fmt.Errorf("--port: expected an integer, got %g", n)
				}
				o.Port = uint16(n)
			}
		case "--duration":
			i++
			o.DurationS, err = number("--duration", args, i, 31_536_000)
		case "--interval":
			i++
			o.IntervalS, err = number("--interval", args, i, 31_536_000)
		case "--json":
			o.JSON = true
		default:
			err = fmt.Errorf("unknown argument: %s", args[i])
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

// SlowRead is one slow read, as the BPF program reports it.
type SlowRead struct {
	TsNs, DelayNs          uint64
	Pid, QueueCPU, ReadCPU uint32
	Family, Sport, Dport   uint16
	Saddr, Daddr           [16]byte
	Comm                   string
}

const afInet6 = 10

// FormatAddr gives an address as text: dotted quad, or compressed IPv6.
func FormatAddr(family uint16, addr [16]byte) string {
	if family != afInet6 {
		return net.IP(addr[:4]).String()
	}
	ip := net.IP(addr[:])
	if v4 := ip.To4(); v4 != nil && !ip.Equal(net.IPv6unspecified) {
		return "::ffff:" + v4.String()
	}
	return ip.String()
}

func endpoint(family uint16, addr string, port uint16) string {
	if family == afInet6 {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

type jsonEvent struct {
	TsNs     uint64  `json:"ts_ns"`
	Pid      uint32  `json:"pid"`
	Comm     string  `json:"comm"`
	Family   string  `json:"family"`
	Local    string  `json:"local"`
	Lport    uint16  `json:"lport"`
	Remote   string  `json:"remote"`
	Rport    uint16  `json:"rport"`
	DelayMs  float64 `json:"delay_ms"`
	QueueCPU uint32  `json:"queue_cpu"`
	ReadCPU  uint32  `json:"read_cpu"`
}

// marshal gives v as one line of JSON, with <, > and & as they are.
func marshal(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// FormatEvent gives the line printed for one slow read (text, or a JSON object).
func FormatEvent(ev SlowRead, asJSON bool) string {
	local, remote := FormatAddr(ev.Family, ev.Saddr), FormatAddr(ev.Family, ev.Daddr)
	delayMs := float64(ev.DelayNs) / 1e6
	if asJSON {
		family := "ipv4"
		if ev.Family == afInet6 {
			family = "ipv6"
		}
		return marshal(jsonEvent{ev.TsNs, ev.Pid, ev.Comm, family, local, ev.Sport, remote, ev.Dport,
			math.Round(delayMs*1000) / 1000, ev.QueueCPU, ev.ReadCPU})
	}
	return fmt.Sprintf("slow read: pid %d (%s) %s <- %s delay %.3f ms queued on cpu %d, read on cpu %d",
		ev.Pid, ev.Comm, endpoint(ev.Family, local, ev.Sport), endpoint(ev.Family, remote, ev.Dport),
		delayMs, ev.QueueCPU, ev.ReadCPU)
}

// SlotBounds gives the bounds (microseconds, inclusive) of slot i: slot 0 is 0..1, slot i>0 is 2^i..2^(i+1)-1.
func SlotBounds(i int) (lo, hi uint64) {
	if i > 0 {
		lo = 1 << uint(i)
	}
	return lo, 1<<uint(i+1) - 1
}

const bar = 40

type jsonSlot struct {
	LoUs  uint64 `json:"lo_us"`
	HiUs  uint64 `json:"hi_us"`
	Count uint64 `json:"count"`
}

// RenderHistogram gives the delay histogram: text lines from the first to the last non-empty slot, or JSON.
func RenderHistogram(counts []uint64, asJSON bool) string {
	first, last := -1, -1
	var top uint64
	slots := []jsonSlot{}
	for i, c := range counts {
		if c == 0 {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		if c > top {
			top = c
		}
		lo, hi := SlotBounds(i)
		slots = append(slots, jsonSlot{lo, hi, c})
	}
	if asJSON {
		return marshal(struct {
			Histogram []jsonSlot `json:"histogram"`
		}{slots})
	}
	if first < 0 {
		return "delay histogram: no reads yet"
	}
	lines := []string{fmt.Sprintf("%25s : count      distribution", "delay (us)")}
	for i := first; i <= last; i++ {
		lo, hi := SlotBounds(i)
		stars := int((counts[i]*bar + top - 1) / top)
		lines = append(lines, fmt.Sprintf("%12d -> %-10d : %-10d |%-40s|", lo, hi, counts[i], strings.Repeat("*", stars)))
	}
	return strings.Join(lines, "\n")
}
