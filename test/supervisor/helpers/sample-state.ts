/** A realistic HandoverState for codec and transfer tests: one passthrough_fs at "/" and one rafs at "/img". */
import { HandoverState, FD_FUSE_DEV, FD_NODE, FD_HANDLE, HANDLE_FILE, HANDLE_DIR } from '../../../daemon/src/upgrade/state-types';

export function sampleState(options: { nodes?: number; journalPath?: string } = {}): HandoverState {
  const nodeCount = options.nodes ?? 3;
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({
    nodeid: i + 1, dev: 2049, ino: 1000 + i, generation: 0, lookups: i === 0 ? 0 : i + 1, fdIndex: i,
    parent: i === 0 ? 0 : 1, name: i === 0 ? '' : `file-${i}`, mode: i === 0 ? 0o040000 : 0o100000,
  }));
  const handles = [
    { fh: 1, nodeid: 2, flags: 0o2, kind: HANDLE_FILE, fdIndex: nodeCount, dirOffset: 0, backingId: 0 },
    { fh: 2, nodeid: 1, flags: 0o200000, kind: HANDLE_DIR, fdIndex: nodeCount + 1, dirOffset: 17, backingId: 0 },
  ];
  const fsFdCount = nodeCount + handles.length;
  return {
    daemonId: 'daemon-sample',
    argv: ['--mountpoint', '/mnt/sample', '--shared-dir', '/srv/share', '--apisock', '/run/nydus/sample.sock'],
    binary: '/opt/nydus/dist/daemon/src/cli/nydusd.js',
    apiSock: '/run/nydus/sample.sock',
    pid: 4242,
    sequence: 7,
    createdUnixMs: 1_795_000_000_000,
    fuse: {
      major: 7, minor: 41, flags: 0x73fffffb & 0x7fffffff, flags2: 0, maxWrite: 1 << 20, maxPages: 256, hasResend: true,
      maxReadahead: 131072, maxBackground: 64, congestionThreshold: 48, timeGran: 1, kernelMinor: 45,
      kernelFlags: 0x73fffffb, kernelFlags2: 0x5fd,
    },
    mounts: [
      { fsType: 'passthrough_fs', source: '/srv/share', config: '{"writable":true}', mountpoint: '/', prefetchFiles: [], vfsIndex: 1, mountedUnixMs: 1_795_000_000_001, openHandles: 2, kernelRefs: 0, retired: false },
      { fsType: 'rafs', source: '/images/app.boot', config: '{"device":{"backend":{"type":"localfs"}}}', mountpoint: '/img', prefetchFiles: ['/etc', '/usr/bin/sh'], vfsIndex: 2, mountedUnixMs: 1_795_000_000_002, openHandles: 0, kernelRefs: 0, retired: false },
    ],
    vfsNextIndex: 3,
    vfsNamespace: { nextNodeid: 3, nodes: [{ nodeid: 2, parent: 1, name: 'img' }] },
    filesystems: [
      {
        vfsIndex: 1, fdBase: 1, fdCount: fsFdCount,
        passthrough: {
          nodes, nextNodeid: nodeCount + 1, nextFh: 3, handles, rootFdIndex: 0, generation: 0, sharedDir: '/srv/share', writable: true, tableVersion: 1,
        },
      },
      { vfsIndex: 2, fdBase: 1 + fsFdCount, fdCount: 0, rafs: { bootstrap: '/images/app.boot', imageDigest: Buffer.from('00112233', 'hex') } },
    ],
    fds: [
      { kind: FD_FUSE_DEV, vfsIndex: 0, ref: 0, dev: 6, ino: 229 },
      ...nodes.map((n) => ({ kind: FD_NODE, vfsIndex: 1, ref: n.nodeid, dev: n.dev, ino: n.ino })),
      ...handles.map((h) => ({ kind: FD_HANDLE, vfsIndex: 1, ref: h.fh, dev: 2049, ino: 1001 })),
    ],
    mountpoint: '/mnt/sample',
    journalPath: options.journalPath ?? '/run/nydus/daemon-sample.journal',
  };
}
