/**
 * A bare FUSE server for tests of the FUSE layer alone (no control plane): mounts a passthrough of
 * --shared-dir (or a rafs image: --bootstrap B [--blob F]) at --mountpoint through the VFS, prints "READY" once the kernel's INIT is answered, and
 * unmounts on SIGTERM. Usage: node serve-child.js --mountpoint M --shared-dir D [--writable] [--sub /x=DIR ...]
 * [--no-kernel-passthrough]
 */
import { createLogger } from '../../daemon/src/log';
import { PassthroughFs } from '../../daemon/src/passthrough';
import { openRafs } from '../../daemon/src/rafs';
import { DEFAULT_INIT_OPTIONS } from '../../daemon/src/server/init';
import { FuseSession } from '../../daemon/src/server/session';
import { Vfs } from '../../daemon/src/vfs/vfs';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const mountpoint = get('--mountpoint');
  const sharedDir = get('--shared-dir');
  const bootstrap = get('--bootstrap');
  if (!mountpoint || (!sharedDir && !bootstrap)) throw new Error('usage: --mountpoint M (--shared-dir D [--writable] | --bootstrap B [--blob F])');
  const writable = args.includes('--writable');
  const log = createLogger('serve-child');
  const vfs = new Vfs();
  if (bootstrap) {
    const blobs = args.flatMap((a, i) => (a === '--blob' ? [args[i + 1]] : []));
    vfs.mount('/', await openRafs({ bootstrap, blobs: blobs.length ? blobs : undefined }), { fsType: 'rafs', source: bootstrap, config: '', prefetchFiles: [] });
  } else {
    vfs.mount('/', new PassthroughFs({ sharedDir: sharedDir!, writable }), { fsType: 'passthrough_fs', source: sharedDir!, config: '', prefetchFiles: [] });
  }
  args.forEach((a, i) => {
    if (a !== '--sub') return;
    const [sub, dir] = args[i + 1].split('=');
    vfs.mount(sub, new PassthroughFs({ sharedDir: dir, writable }), { fsType: 'passthrough_fs', source: dir, config: '', prefetchFiles: [] });
  });
  const kernelPassthrough = !args.includes('--no-kernel-passthrough');
  const session = await FuseSession.mount({ mountpoint, logger: log, initOptions: { ...DEFAULT_INIT_OPTIONS, kernelPassthrough } });
  vfs.onInvalidate = (parent, name) => session.notifyInvalEntry(parent, name);
  session.start(vfs);
  const stop = () => {
    session.umount();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Trigger INIT from outside the event loop's thread: a stat on the mount from the threadpool.
  await import('fs').then((fs) => fs.promises.stat(mountpoint));
  await session.waitInit();
  process.stdout.write('READY\n');
}

main().catch((err) => {
  process.stderr.write(`serve-child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
