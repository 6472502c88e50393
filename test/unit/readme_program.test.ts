/*
 * The README's first-time program is examples/hello-server.js, verbatim,
 * and at most 10 lines (issue 9): the file is the one CI runs in Espruino's
 * interpreter (scripts/test-examples.js) and uploads with `slabnet flash`
 * (scripts/test-flash.js), so the README cannot drift into dead text.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

describe('README first-time path', () => {
  it('shows examples/hello-server.js as it is, in at most 10 lines', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const file = readFileSync(join(ROOT, 'examples', 'hello-server.js'), 'utf8');
    const at = readme.indexOf('`examples/hello-server.js`:');
    expect(at).toBeGreaterThan(0);
    const m = /```js\n([\s\S]*?)```/.exec(readme.slice(at));
    expect(m).not.toBeNull();
    expect(m![1]).toBe(file);
    expect(file.trimEnd().split('\n').length).toBeLessThanOrEqual(10);
  });

  it('names the flash command for the example and keeps the two set-up commands on its first screen', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const first = readme.slice(0, readme.indexOf('## From a new board'));
    expect(first).toContain('npm ci && npm start');
    expect(first).toContain('npm test');
    expect(readme).toContain('npx slabnet flash --board espruino-pico-enc28j60 --port /dev/ttyACM0 --app examples/hello-server.js');
  });
});
