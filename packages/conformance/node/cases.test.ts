// The Node column covers every scenario and every case of its expect.json:
// node/<scenario>.test.ts exists, each of its tests is titled
// "<case id>[, <case id>…]: …" with ids expect.json has, and every case has
// at least one test. (No kernel needed.)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expected, pkgDir } from './harness.js';

const scenarios = readdirSync(join(pkgDir, 'scenarios')).filter((n) => existsSync(join(pkgDir, 'scenarios', n, 'expect.json'))).sort();

describe('the Node column covers every case', () => {
  it('has the seven scenarios', () => {
    expect(scenarios).toEqual(['errors', 'globals', 'layout', 'lifecycle', 'maps', 'perfbuf', 'ringbuf']);
  });

  for (const name of scenarios) {
    it(name, () => {
      const file = join(pkgDir, 'node', `${name}.test.ts`);
      expect(existsSync(file)).toBe(true);
      const cases = expected<{ scenario: string; cases: { id: string }[] }>(name);
      expect(cases.scenario).toBe(name);
      const ids = cases.cases.map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      const titled = new Set<string>();
      for (const m of readFileSync(file, 'utf8').matchAll(/\bit(?:\.fails)?\(\s*['`]([^'`]*)['`]/g)) {
        const head = /^([a-z0-9-]+(?:, [a-z0-9-]+)*): /.exec(m[1]!);
        expect(head, `test title without case ids: ${m[1]}`).not.toBeNull();
        for (const id of head![1]!.split(', ')) titled.add(id);
      }
      expect([...titled].filter((id) => !ids.includes(id))).toEqual([]);
      expect(ids.filter((id) => !titled.has(id))).toEqual([]);
    });
  }
});
