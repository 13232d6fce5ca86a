import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { ChildProcess } from 'child_process';
import { native } from '../../daemon/src/native';
import { fetchState } from '../../daemon/src/upgrade/client';
import { FAKE_DAEMON, killChild, startChild, startServe, statusJson, supervisorCli } from './helpers/cli';
import { eventually, identity, tempDir } from './helpers/harness';

interface View {
  id: string;
  pid: number;
  alive: boolean;
  linked: boolean;
  fdsHeld: number;
  fdsLost: boolean;
  statesReceived: number;
}

function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = tempDir();
  const files = ['a', 'b', 'c'].map((name) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, name.repeat(10));
    return file;
  });
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const child of children) await killChild(child);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, files, sock: path.join(dir, 'sup.sock'), stateDir: path.join(dir, 'state'), children };
}

async function fetchedIdentities(sock: string, id: string): Promise<string[]> {
  const fetched = await fetchState(sock, id);
  try {
    return fetched.fds.map(identity);
  } finally {
    fetched.fds.forEach((fd) => native.close(fd));
  }
}

test.serial('serve keeps a daemon\'s state and fds; status reports it', async (t) => {
  const s = setup(t);
  s.children.push(await startServe(s.sock, ['--state-dir', s.stateDir]));
  const fake = await startChild(FAKE_DAEMON, [s.sock, 'fake1', ...s.files], /^ready/);
  s.children.push(fake.child);
  await eventually(() => statusJson<View>(s.sock, 'fake1').linked, 5000, 'the link');
  const view = statusJson<View>(s.sock, 'fake1');
  t.is(view.pid, fake.child.pid ?? -1);
  t.is(view.fdsHeld, 3);
  t.false(view.fdsLost);
  t.deepEqual(await fetchedIdentities(s.sock, 'fake1'), s.files.map((f) => { const st = fs.statSync(f); return `${st.dev}:${st.ino}`; }));
  t.is(fs.statSync(path.join(s.stateDir, 'fake1.json')).mode & 0o777, 0o600);
  t.is(fs.statSync(s.sock).mode & 0o777, 0o600);

  const text = supervisorCli(['status', '--sock', s.sock]);
  t.is(text.code, 0);
  t.regex(text.stdout, /fake1: .* pid \d+ linked yes/);
  const missing = supervisorCli(['status', '--sock', s.sock, 'nope']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /No daemon "nope"/);
});

test.serial('after a supervisor restart the live daemon sends its fds again', async (t) => {
  const s = setup(t);
  const first = await startServe(s.sock, ['--state-dir', s.stateDir]);
  s.children.push(first);
  const fake = await startChild(FAKE_DAEMON, [s.sock, 'fake2', ...s.files], /^ready/);
  s.children.push(fake.child);
  const expected = await fetchedIdentities(s.sock, 'fake2');
  const before = statusJson<View>(s.sock, 'fake2').statesReceived;

  await killChild(first, 'SIGKILL');
  s.children.push(await startServe(s.sock, ['--state-dir', s.stateDir]));
  await eventually(() => {
    const v = statusJson<View>(s.sock, 'fake2');
    return v.linked && !v.fdsLost && v.fdsHeld === 3;
  }, 10_000, 'the daemon to re-link and resend');
  const view = statusJson<View>(s.sock, 'fake2');
  t.true(view.statesReceived >= 1);
  t.true(before >= 1);
  t.deepEqual(await fetchedIdentities(s.sock, 'fake2'), expected);
});

test.serial('a supervisor restarted without its daemon reports the fds as lost, not a stale copy', async (t) => {
  const s = setup(t);
  const first = await startServe(s.sock, ['--state-dir', s.stateDir]);
  s.children.push(first);
  const fake = await startChild(FAKE_DAEMON, [s.sock, 'fake3', ...s.files], /^ready/);
  s.children.push(fake.child);
  await killChild(first, 'SIGKILL');
  await killChild(fake.child, 'SIGKILL');
  s.children.push(await startServe(s.sock, ['--state-dir', s.stateDir]));
  const view = statusJson<View>(s.sock, 'fake3');
  t.true(view.fdsLost);
  t.false(view.alive);
  await t.throwsAsync(fetchState(s.sock, 'fake3'), { message: /descriptors lost/ });
});

test.serial('bad command lines get a usage error (exit 2)', (t) => {
  t.is(supervisorCli(['restart', '--sock']).code, 2);
  t.is(supervisorCli(['frobnicate', '--sock', '/nonexistent']).code, 2);
  const r = supervisorCli(['status', '--sock', '/nonexistent/sup.sock']);
  t.is(r.code, 1);
  t.regex(r.stderr, /Cannot connect to \/nonexistent\/sup.sock: ENOENT/);
});
