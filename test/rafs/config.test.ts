/** rafsOptionsFromConfig(): nydusd's v2 and v1 JSON configs, and the errors for what we do not serve. */
import test from 'ava';
import { rafsOptionsFromConfig } from '../../daemon/src/rafs';

test('rafsOptionsFromConfig() reads a version 2 localfs config', (t) => {
  const cfg = { version: 2, id: 'x', backend: { type: 'localfs', localfs: { dir: '/blobs' } },
    cache: { type: 'blobcache', filecache: { work_dir: '/cache' } }, rafs: { mode: 'direct', validate: true, enable_xattr: true } };
  t.deepEqual(rafsOptionsFromConfig('/img.boot', JSON.stringify(cfg)),
    { bootstrap: '/img.boot', localfsDir: '/blobs', blobs: undefined, digestValidate: true });
  const fileCfg = { version: 2, backend: { type: 'localfs', localfs: { blob_file: '/b/blob' } } };
  t.deepEqual(rafsOptionsFromConfig('/i', fileCfg).blobs, ['/b/blob']);
  t.is(rafsOptionsFromConfig('/i', fileCfg).digestValidate, false);
});

test('rafsOptionsFromConfig() reads a version 1 config', (t) => {
  const cfg = { device: { backend: { type: 'localfs', config: { dir: '/v1blobs' } }, cache: { type: 'blobcache' } },
    mode: 'direct', digest_validate: true, iostats_files: false };
  t.deepEqual(rafsOptionsFromConfig('/img', cfg), { bootstrap: '/img', localfsDir: '/v1blobs', blobs: undefined, digestValidate: true });
});

test('rafsOptionsFromConfig() names unknown keys and refuses other backends', (t) => {
  t.throws(() => rafsOptionsFromConfig('/i', { version: 2, backend: { type: 'localfs', localfs: { dir: '/d' } }, bogus: 1 }),
    { message: /unknown key "bogus"/ });
  t.throws(() => rafsOptionsFromConfig('/i', { version: 2, backend: { type: 'localfs', localfs: { dir: '/d' }, weird: {} } }),
    { message: /unknown key "weird" in backend/ });
  t.throws(() => rafsOptionsFromConfig('/i', { version: 2, backend: { type: 'registry', registry: {} } }),
    { message: /backend type "registry" is not supported/ });
  t.throws(() => rafsOptionsFromConfig('/i', { device: { backend: { type: 'oss', config: {} } } }),
    { message: /"oss" is not supported/ });
  t.throws(() => rafsOptionsFromConfig('/i', { version: 2, backend: { type: 'localfs', localfs: {} } }),
    { message: /needs "dir" or "blob_file"/ });
  t.throws(() => rafsOptionsFromConfig('/i', '{not json'), { message: /rafs config/ });
  t.throws(() => rafsOptionsFromConfig('/i', { version: 3 }), { message: /unsupported version 3/ });
  t.throws(() => rafsOptionsFromConfig('/i', { device: { backend: { type: 'localfs', config: { dir: '/d' } } }, extra: true }),
    { message: /unknown key "extra"/ });
});

test('v2 config: fuse timeouts are read; unknown keys in cache, rafs and fuse are named', (t) => {
  const base = { version: 2, backend: { type: 'localfs', localfs: { dir: '/blobs' } } };
  const o = rafsOptionsFromConfig('/boot', { ...base, fuse: { entry_timeout: 5, attr_timeout: 0.5 } });
  t.is(o.entryTimeout, 5);
  t.is(o.attrTimeout, 0.5);
  t.throws(() => rafsOptionsFromConfig('/boot', { ...base, fuse: { entry_timout: 5 } }), { message: /unknown key "entry_timout" in fuse/ });
  t.throws(() => rafsOptionsFromConfig('/boot', { ...base, cache: { sizee: 1 } }), { message: /unknown key "sizee" in cache/ });
  t.throws(() => rafsOptionsFromConfig('/boot', { ...base, rafs: { validatee: true } }), { message: /unknown key "validatee" in rafs/ });
  t.throws(() => rafsOptionsFromConfig('/boot', { ...base, fuse: { attr_timeout: -1 } }), { message: /fuse\.attr_timeout must be a number/ });
});
