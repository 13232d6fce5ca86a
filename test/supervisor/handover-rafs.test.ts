/**
 * nydusd serving the upstream RAFS v6 image under the supervisor: readers verifying file contents, a lister
 * and a process holding a file open, while the daemon is hot-upgraded and SIGKILLed repeatedly.
 * Rounds: NYDUS_HANDOVER_ROUNDS (default 20). Needs /work/shared/fixtures/nydus-rafs-v6 (skipped otherwise).
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { supervisorCli } from './helpers/cli';
import { sleep } from './helpers/harness';
import { SupervisedMount } from './helpers/supervised-mount';

const ROUNDS = Number(process.env.NYDUS_HANDOVER_ROUNDS ?? 20);
const FIXTURES = '/work/shared/fixtures/nydus-rafs-v6';
const BOOTSTRAP = path.join(FIXTURES, 'rafs-v6-2.2.boot');
const ROLES = ['image-reader', 'image-reader', 'image-lister', 'image-holder'];

test.serial(`rafs: ${ROUNDS} hot upgrades and ${ROUNDS} SIGKILLs under load`, async (t) => {
  if (!fs.existsSync(BOOTSTRAP)) {
    t.log(`skipped: ${BOOTSTRAP} is absent`);
    t.pass();
    return;
  }
  const m = new SupervisedMount('rafs');
  t.teardown(() => m.close());
  await m.start(['--bootstrap', BOOTSTRAP, '--localfs-dir', FIXTURES]);
  await m.startWorkload(ROLES);
  for (let i = 0; i < ROUNDS; i++) {
    const r = supervisorCli(['restart', '--sock', m.sock, m.id]);
    t.is(r.code, 0, r.stderr + r.stdout);
    await sleep(50 + Math.random() * 250);
  }
  for (let i = 0; i < ROUNDS; i++) {
    await sleep(100 + Math.random() * 600);
    const victim = m.view().pid;
    process.kill(victim, 'SIGKILL');
    const view = await m.waitReplaced(victim);
    t.true(view.lastHandover?.ok, view.lastHandover?.message);
  }
  const outcome = await m.stopWorkload();
  for (const r of outcome.results) t.log(`${r.role}: ${r.ops} ops, ${r.errorCount} errors, longest ${r.maxMs.toFixed(1)} ms`);
  t.deepEqual(outcome.hung, []);
  t.is(outcome.results.length, ROLES.length);
  for (const r of outcome.results) {
    t.deepEqual(r.errors, [], `${r.role}: no failed or wrong syscall`);
    t.true(r.ops > 0);
  }
  t.true(fs.readdirSync(m.mnt).includes('lib.rs'), 'the mount is alive at the end');
});
