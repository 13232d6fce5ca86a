/**
 * A stand-in daemon for supervisor tests: opens the files named on its command line, links to the supervisor
 * as daemon ID and sends a state whose fds are those files (on start and whenever the supervisor asks).
 * Prints "ready <pid>" once the first state was acknowledged, then waits to be killed.
 * usage: node fake-daemon.js SUPSOCK ID FILE...
 */
import * as fs from 'fs';
import { SupervisorLink } from '../../../daemon/src/upgrade/link';
import { FD_HANDLE } from '../../../daemon/src/upgrade/state-types';
import { sampleState } from './sample-state';

const [sock, id, ...files] = process.argv.slice(2);
const fds = files.map((file) => fs.openSync(file, 'r'));
let sequence = 0;
const link = new SupervisorLink({
  supervisorSock: sock,
  daemonId: id,
  apiSock: '',
  reconnectMs: 100,
  capture: () => {
    const state = sampleState({ nodes: 0 });
    state.filesystems = state.filesystems.filter((fs) => !fs.passthrough);
    state.daemonId = id;
    state.pid = process.pid;
    state.sequence = ++sequence;
    state.fds = fds.map((_, i) => ({ kind: FD_HANDLE, vfsIndex: 1, ref: i, dev: 0, ino: 0 }));
    return { state, fds };
  },
});
link.start();
link.push('start').then(
  () => process.stdout.write(`ready ${process.pid}\n`),
  (err: Error) => {
    process.stderr.write(`fake daemon: ${err.message}\n`);
    process.exit(1);
  },
);
setInterval(() => undefined, 1 << 30);
