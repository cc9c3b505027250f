"""Run by ringbuf's and perfbuf's "exit" case in a process of its own:
    python exit_child.py <DIR/python> <module> <event map>
Reads events through a stopped iteration and a stopped subscription, then
returns from its top level without destroy() or sys.exit(): the process must
exit by itself. Prints one JSON line with what it read."""
import importlib
import json
import os
import sys
import threading

sys.path.insert(0, sys.argv[1])
g = importlib.import_module(sys.argv[2])
x = g.init(rodata={"target_tgid": os.getpid()})
events = getattr(x.maps, sys.argv[3])


def trigger(n):
    for _ in range(n):
        os.getppid()


trigger(3)
iterated = []
it = events.iter()
for ev in it:
    iterated.append(ev.seq)
    if len(iterated) == 3:
        it.stop()

subscribed = []
two = threading.Event()


def on_event(ev, cpu):
    subscribed.append(ev.seq)
    if len(subscribed) == 2:
        two.set()


sub = events.subscribe(on_event)
trigger(2)
two.wait(5)
sub.stop()
print(json.dumps({"iterated": iterated, "subscribed": subscribed}))
