import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { canMount, mountingTests, startNydusd } from './nydusd-process';

const FIXTURES = '/work/shared/fixtures/nydus-rafs-v6';
const reason = canMount() ?? (fs.existsSync(path.join(FIXTURES, 'rafs-v6-2.2.boot')) ? undefined : `no fixtures in ${FIXTURES}`);
const e2e = mountingTests('nydusd rafs end-to-end tests need root, /dev/fuse and the upstream fixtures', reason);

const md5 = (file: string) => createHash('md5').update(fs.readFileSync(file)).digest('hex');

e2e('nydusd --bootstrap serves an upstream RAFS v6 image; a second image mounts at /img over the API', async (t) => {
  const d = await startNydusd(t, [], ['--bootstrap', path.join(FIXTURES, 'rafs-v6-2.2.boot'), '--localfs-dir', FIXTURES]);
  await d.waitState('DAEMON_STATE_RUNNING');
  t.is(md5(path.join(d.mnt, 'lib.rs')), '4709cf8873e419ecedc7d43fdee4a75f');
  t.is(md5(path.join(d.mnt, 'sync_io.rs')), '5442bc7dc9dc5f985c7594e23866ae6f');
  const selfContained = path.join(FIXTURES, '2fa78cad554b75ac91a4a125ed148d0ddeb25efa4aaa8bd80e5dc292690a4dca');
  await d.client.call('Mount', { fs_type: 'rafs', source: selfContained, mountpoint: '/img', config: '' });
  t.is(md5(path.join(d.mnt, 'img', 'error.rs')), '411725b13e38cad854633d886c48cdb2');
  t.is(md5(path.join(d.mnt, 'lib.rs')), '4709cf8873e419ecedc7d43fdee4a75f', 'the root image is unaffected');
  const info = await d.client.call<Record<string, any>>('ExportInfo', { include_fs_info: true });
  t.is(info.backend_collection['/'].backend_type, 'rafs');
  t.deepEqual(JSON.parse(info.backend_collection['/'].config), { version: 2, backend: { type: 'localfs', localfs: { dir: FIXTURES } } });
  t.is(info.backend_collection['/img'].source, selfContained);
  const bad = await d.client.call('Mount', { fs_type: 'rafs', source: selfContained, mountpoint: '/bad', config: '{"version":2,"backend":{"type":"oss"}}' }).catch((err) => err);
  t.is(bad.code, 3, bad.details); // INVALID_ARGUMENT
  t.regex(bad.details, /not supported/);
  await d.client.call('Umount', { mountpoint: '/img' });
  t.false(fs.existsSync(path.join(d.mnt, 'img')));
});
