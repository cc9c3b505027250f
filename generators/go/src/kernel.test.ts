/**
 * End to end on the running kernel: `coolbpf-gen build examples/hello
 * --lang go`, then a Go project elsewhere that uses DIR/go through a
 * `replace` directive (offline: GOPROXY=off), as a user's would: Init with
 * .rodata set, events through Consume, a typed map, a live .bss global,
 * Close, and a bpf.so of another object refused. Skipped, with the reason,
 * without root, the kernel's BTF or Go.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { go, noGo, repoRoot } from './gotool.testutil.js';

const why = noGo ?? (process.getuid?.() !== 0 ? 'not root' : !existsSync('/sys/kernel/btf/vmlinux') ? 'no kernel BTF' : null);
if (why) console.log(`skipping the generated Go package on the kernel: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-go-kernel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = join(repoRoot, 'packages', 'cli', 'bin', 'coolbpf-gen.js');

function tree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

const MAIN = `package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"coolbpf.local/hello"
)

func main() {
	out := map[string]any{}
	x, err := hello.Init(&hello.Options{Rodata: func(r *hello.Rodata) error { r.OnlyUid = -1; return nil }})
	if err != nil {
		panic(err)
	}
	out["only_uid"], _ = x.Rodata.OnlyUid.Get()
	if err := x.Bss.Dropped.Set(3); err != nil {
		panic(err)
	}
	out["dropped"], _ = x.Bss.Dropped.Get()
	go func() {
		time.Sleep(50 * time.Millisecond)
		for i := 0; i < 5; i++ {
			_ = exec.Command("/bin/true").Run()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen []hello.Event
	err = x.Maps.Events.Consume(ctx, func(e hello.Event, cpu int) error {
		if e.Comm.String() == "true" {
			seen = append(seen, e)
			if len(seen) == 3 {
				cancel()
			}
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	out["seen"] = len(seen)
	out["comm"] = seen[0].Comm.String()
	out["uid"] = seen[0].Uid
	out["pid_set"] = seen[0].Pid != 0
	n, ok, err := x.Maps.ExecCounts.Get(hello.MustCString16("true"))
	out["count_ok"] = ok && err == nil && n >= 3
	if err := x.Close(); err != nil {
		panic(err)
	}
	_, err = x.Bss.Dropped.Get()
	out["after_close"] = errors.Is(err, hello.ErrDestroyed)
	_, err = hello.Init(&hello.Options{SoPath: os.Args[1]})
	var he *hello.Error
	out["wrong_so"] = errors.As(err, &he) && errors.Is(err, hello.ErrMismatch)
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
`;

describe.skipIf(why !== null)('the generated examples/hello Go package on the running kernel', () => {
  it('is written by coolbpf-gen --lang go as a module with the runtime and bpf.so, byte-identical when built again', () => {
    execFileSync(process.execPath, [cli, 'build', join(repoRoot, 'examples', 'hello', 'hello.bpf.c'), '--out', join(dir, 'a'), '--lang', 'go'], { stdio: 'pipe' });
    execFileSync(process.execPath, [cli, 'build', join(repoRoot, 'examples', 'hello', 'hello.bpf.c'), '--out', join(dir, 'b'), '--lang', 'go'], { stdio: 'pipe' });
    const a = tree(join(dir, 'a', 'go'));
    expect([...a.keys()]).toEqual(expect.arrayContaining(['go.mod', 'types.go', 'object.go', 'bpf.so', 'coolbpf/cgo.go', 'coolbpf/cbgo.h', 'coolbpf/coolbpf.h', 'coolbpf/events.go']));
    expect([...a.keys()].filter((f) => f.endsWith('_test.go') || f.startsWith('coolbpf/internal'))).toEqual([]);
    expect(a.get('bpf.so')).toEqual(readFileSync(join(dir, 'a', 'bpf.so')));
    expect(tree(join(dir, 'b', 'go'))).toEqual(a);
  });

  it('is used from a project elsewhere through a replace directive: events, maps, globals, Close, a wrong bpf.so', () => {
    execFileSync(process.execPath, [cli, 'gen', join(repoRoot, 'packages', 'fixtures', 'build', 'globals.bpfel.o'), '--out', join(dir, 'other')], { stdio: 'pipe' });
    const project = join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'go.mod'), `module example.com/user\n\ngo 1.19\n\nrequire coolbpf.local/hello v0.0.0\n\nreplace coolbpf.local/hello => ${join(dir, 'a', 'go')}\n`);
    writeFileSync(join(project, 'main.go'), MAIN);
    const r = go(project, ['run', '.', join(dir, 'other', 'bpf.so')]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      only_uid: -1, dropped: 3, seen: 3, comm: 'true', uid: 0, pid_set: true, count_ok: true, after_close: true, wrong_so: true,
    });
  });
});
