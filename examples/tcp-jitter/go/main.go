// Command tcp-jitter prints one line per slow TCP read and a delay histogram
// on exit (and every --interval seconds). Ctrl-C / SIGTERM print the histogram
// and exit 0.
package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"syscall"
	"time"

	tcpjitter "coolbpf.local/tcp_jitter"
	"coolbpf.local/tcpjitter-app/jitter"
)

const histSlots = 32

// histogram sums delay_hist's per-CPU counts slot by slot.
func histogram(x *tcpjitter.TcpJitter) ([]uint64, error) {
	counts := make([]uint64, histSlots)
	for i := range counts {
		perCPU, _, err := x.Maps.DelayHist.Get(uint32(i))
		if err != nil {
			return nil, err
		}
		for _, n := range perCPU {
			counts[i] += n
		}
	}
	return counts, nil
}

func printHistogram(x *tcpjitter.TcpJitter, o jitter.Options) error {
	counts, err := histogram(x)
	if err != nil {
		return err
	}
	fmt.Println(jitter.RenderHistogram(counts, o.JSON))
	return nil
}

func run(o jitter.Options) error {
	x, err := tcpjitter.Init(&tcpjitter.Options{Rodata: func(r *tcpjitter.Rodata) error {
		r.ThresholdNs = uint64(math.Round(o.ThresholdMs * 1e6))
		r.FilterPort = o.Port
		return nil
	}})
	if err != nil {
		return err
	}
	defer x.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.DurationS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(o.DurationS*float64(time.Second)))
		defer cancel()
	}
	if o.IntervalS > 0 {
		ticker := time.NewTicker(time.Duration(o.IntervalS * float64(time.Second)))
		defer ticker.Stop()
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-ticker.C:
					if err := printHistogram(x, o); err != nil {
						fmt.Fprintf(os.Stderr, "tcp-jitter: %v\n", err)
					}
				}
			}
		}()
	}
	port := "any"
	if o.Port != 0 {
		port = fmt.Sprint(o.Port)
	}
	fmt.Fprintf(os.Stderr, "tcp-jitter: attached (threshold %g ms, port %s)\n", o.ThresholdMs, port)
	err = x.Maps.Events.Consume(ctx, func(ev tcpjitter.Event, cpu int) error {
		fmt.Println(jitter.FormatEvent(jitter.SlowRead{
			TsNs: ev.TsNs, DelayNs: ev.DelayNs, Pid: ev.Pid, QueueCPU: ev.QueueCpu, ReadCPU: ev.ReadCpu,
			Family: ev.Family, Sport: ev.Sport, Dport: ev.Dport, Saddr: ev.Saddr, Daddr: ev.Daddr,
			Comm: ev.Comm.String(),
		}, o.JSON))
		return nil
	})
	if err != nil && ctx.Err() == nil {
		return err
	}
	return printHistogram(x, o)
}

func main() {
	o, err := jitter.ParseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "tcp-jitter: %v\n%s\n", err, jitter.Usage)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "tcp-jitter: %v\n", err)
		os.Exit(1)
	}
}
