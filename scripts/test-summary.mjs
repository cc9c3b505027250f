// Adds up the vitest JSON reports of all workspaces into one closing line:
// "tests: N passed, N failed, N skipped".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// the workspace folders of package.json
const ROOTS = ['packages', 'generators', 'examples'];

let passed = 0, failed = 0, skipped = 0, reports = 0;
for (const pkg of ROOTS.flatMap((root) => readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(root, d.name)))) {
  const file = join(pkg, '.vitest-report.json');
  if (!existsSync(file)) continue;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  reports++;
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (reports === 0 || passed === 0) {
  console.error('test-summary: no test reports were written');
  process.exit(1);
}
