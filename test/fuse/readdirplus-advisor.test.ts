import test from 'ava';
import { ReaddirplusAdvisor } from '../../daemon/src/server/readdirplus-advisor';

/** Lists `dir` once (one page of `names` names) the way the READDIRPLUS handler consults the advisor. */
function list(a: ReaddirplusAdvisor, dir: number, names: number): boolean {
  const withAttributes = a.withAttributes(dir, 0);
  if (!withAttributes) a.sentNames(dir, names);
  return withAttributes;
}

test('a directory is listed names-only until its entries are looked up after a listing, then with attributes', (t) => {
  const a = new ReaddirplusAdvisor((n) => n);
  t.false(list(a, 7, 10), 'never listed: names only');
  for (let i = 0; i < 4; i++) a.lookedUp(7);
  t.false(list(a, 7, 10), '4 of 10 looked up: still names only');
  for (let i = 0; i < 10; i++) a.lookedUp(7);
  t.true(list(a, 7, 10), 'most names looked up: attributes');
  t.true(a.withAttributes(7, 4096), 'later pages of that listing too');
});

test('lookups in a directory that was never listed, or a find-like walk, do not turn attributes on', (t) => {
  const a = new ReaddirplusAdvisor((n) => n);
  for (let i = 0; i < 100; i++) a.lookedUp(3);
  t.false(list(a, 3, 50));
  a.lookedUp(3); // find descends into one subdirectory of 50 entries
  t.false(list(a, 3, 50));
});

test('the evidence is renewed: after PROBE_EVERY listings with attributes one listing is names-only again', (t) => {
  const a = new ReaddirplusAdvisor((n) => n);
  list(a, 5, 2);
  a.lookedUp(5);
  const seen = Array.from({ length: 20 }, () => list(a, 5, 2));
  t.true(seen.slice(0, 16).every(Boolean));
  t.false(seen[16], 'a probe listing without attributes');
  t.false(seen[17], 'stays names-only until lookups follow again');
});

test('directories are known by their key, which outlives the nodeid; the record count is bounded', (t) => {
  const keys = new Map<number, string>([[10, 'dev:100'], [11, 'dev:100']]);
  const a = new ReaddirplusAdvisor((n) => keys.get(n) ?? n, 4);
  list(a, 1, 100); // mount-wide evidence: names were not looked up
  list(a, 10, 2);
  a.lookedUp(10);
  t.true(list(a, 11, 2), 'a new nodeid for the same directory keeps the record');
  for (let d = 100; d < 110; d++) t.false(list(a, d, 1));
  t.false(list(a, 11, 2), 'the oldest records were dropped');
});

test('a directory never listed follows the recent evidence of the others: an lstat walk, unlike find, gets attributes', (t) => {
  const walk = new ReaddirplusAdvisor((n) => n);
  t.false(list(walk, 1, 20), 'no evidence yet: names only');
  for (let i = 0; i < 20; i++) walk.lookedUp(1);
  t.true(list(walk, 2, 20), 'the next new directory of an lstat walk gets attributes at once');
  const find = new ReaddirplusAdvisor((n) => n);
  list(find, 1, 20);
  find.lookedUp(1); // descends into one subdirectory
  t.false(list(find, 2, 20), 'find: new directories stay names-only');
});

test('evidence expires: seconds later, a directory and new directories are listed names-only again', (t) => {
  let clock = 0;
  const a = new ReaddirplusAdvisor((n) => n, 8192, () => clock);
  list(a, 1, 10);
  for (let i = 0; i < 10; i++) a.lookedUp(1);
  clock += 1000;
  t.true(list(a, 1, 10), 'a second after an lstat walk: attributes');
  t.true(list(a, 2, 10), 'a new directory follows the recent evidence');
  clock += 10_000;
  t.false(list(a, 1, 10), 'ten seconds later the evidence is renewed first (a find now costs no stats)');
  t.false(list(a, 3, 10), 'and a new directory no longer follows the old walk');
  for (let i = 0; i < 10; i++) a.lookedUp(1);
  t.true(list(a, 1, 10), 'lookups after the probe listing turn attributes back on');
});

test('right after a find, an lstat walk of the same tree switches to attributes within a few directories', (t) => {
  let clock = 0;
  const a = new ReaddirplusAdvisor((n) => n, 8192, () => clock);
  for (let d = 1; d <= 40; d++) {
    t.false(list(a, d, 45), 'find: names only');
    clock += 1;
  }
  const withAttributes: number[] = [];
  for (let d = 1; d <= 40; d++) {
    if (list(a, d, 45)) withAttributes.push(d);
    else for (let i = 0; i < 45; i++) a.lookedUp(d);
    clock += 5;
  }
  t.true(withAttributes.length >= 32, `only ${withAttributes.length} of 40 directories had attributes`);
  t.deepEqual(withAttributes, withAttributes.length ? Array.from({ length: withAttributes.length }, (_, i) => 41 - withAttributes.length + i) : []);
});

test('wouldSendAttributes() foretells withAttributes() without recording anything, through every kind of decision', (t) => {
  let now = 0;
  const a = new ReaddirplusAdvisor((n) => n, 8192, () => now);
  /** Asks twice (nothing recorded in between), then decides for real. */
  const check = (dir: number, offset: number, names: number): boolean => {
    const foretold = a.wouldSendAttributes(dir, offset);
    t.is(a.wouldSendAttributes(dir, offset), foretold);
    const decided = a.withAttributes(dir, offset);
    t.is(decided, foretold, `dir ${dir} at ${offset}, time ${now}`);
    if (!decided) a.sentNames(dir, names);
    return decided;
  };
  t.false(check(1, 0, 10), 'never listed');
  for (let i = 0; i < 10; i++) a.lookedUp(1);
  t.true(check(1, 0, 10), 'its own evidence');
  t.true(check(1, 4096, 10), 'a later page follows the first');
  const seen = Array.from({ length: 17 }, () => check(1, 0, 10));
  t.false(seen[16], 'the probe');
  for (let i = 0; i < 10; i++) a.lookedUp(1);
  check(2, 0, 10); // a directory without evidence of its own follows the walk
  now += 60_000;
  t.false(check(2, 0, 10), 'evidence expires');
  t.false(check(3, 0, 10));
});
