/**
 * Several filesystem instances under one FUSE mount: a passthrough at "/" and others at "/sub" and "/a/b",
 * with nodeids namespaced per instance (no st_ino or content mix-ups) and EXDEV across instances.
 */
import test from 'ava';
import * as fs from 'fs';
import { servePassthrough, sh, tempDir } from '../helpers/mount';

test('instances at /, /sub and /a/b serve their own files; links across them are EXDEV', async (t) => {
  const one = tempDir('vfs-one');
  const two = tempDir('vfs-two');
  fs.writeFileSync(`${one}/f`, 'one');
  fs.writeFileSync(`${two}/f`, 'two');
  const served = await servePassthrough({ extraArgs: ['--sub', `/sub=${one}`, '--sub', `/a/b=${two}`] });
  t.teardown(async () => {
    await served.stop();
    for (const d of [one, two, served.src]) fs.rmSync(d, { recursive: true, force: true });
  });
  fs.writeFileSync(`${served.src}/f`, 'root');
  const m = served.mnt;
  t.is(fs.readFileSync(`${m}/f`, 'utf8'), 'root');
  t.is(fs.readFileSync(`${m}/sub/f`, 'utf8'), 'one');
  t.is(fs.readFileSync(`${m}/a/b/f`, 'utf8'), 'two');
  const inos = new Set([fs.statSync(`${m}/f`).ino, fs.statSync(`${m}/sub/f`).ino, fs.statSync(`${m}/a/b/f`).ino]);
  t.is(inos.size, 3);
  t.deepEqual(fs.readdirSync(`${m}/a`), ['b']);
  t.true(fs.readdirSync(m).includes('sub'), 'sub-mount is listed in the root');
  t.true(fs.readdirSync(m).includes('a'));
  fs.writeFileSync(`${m}/sub/new`, 'made in sub');
  t.is(fs.readFileSync(`${one}/new`, 'utf8'), 'made in sub');
  const err = t.throws(() => fs.linkSync(`${m}/sub/f`, `${m}/a/b/g`)) as NodeJS.ErrnoException;
  t.is(err.code, 'EXDEV');
  // mv across instances falls back to copy + unlink, like across real filesystems
  sh(`mv ${m}/sub/new ${m}/a/b/moved`);
  t.is(fs.readFileSync(`${two}/moved`, 'utf8'), 'made in sub');
  t.false(fs.existsSync(`${one}/new`));
  t.is(sh(`find ${m} -type f | sort | wc -l`).trim(), '4');
});
