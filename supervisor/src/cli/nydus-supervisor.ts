#!/usr/bin/env node
/**
 * nydus-supervisor: keeps nydusd daemons' FUSE connections alive across hot upgrades and crashes.
 *   serve   --sock SOCK [--state-dir DIR] [--run-dir DIR]   the long-lived supervisor
 *   run     --sock SOCK --id ID [--binary PATH] -- <nydusd flags>   start a daemon under `serve`
 *   restart --sock SOCK ID [--binary PATH] [--json]          hot upgrade (rollback on failure)
 *   stop    --sock SOCK ID                                   end a daemon and its mount
 *   status  --sock SOCK [ID] [--json]
 * See supervisor/src/index.ts for how the pieces fit.
 */
import { Supervisor } from '../supervisor';
import { callSupervisor } from '../control-client';
import type { DaemonStatusView } from '../supervisor';
import type { HandoverReport } from '../store';
import { flushLog } from '../../../daemon/src/log';

const USAGE = `usage:
  nydus-supervisor serve --sock SOCK [--state-dir DIR] [--run-dir DIR] [--no-standby]
  nydus-supervisor run --sock SOCK --id ID [--binary PATH] -- <nydusd flags>
  nydus-supervisor restart --sock SOCK ID [--binary PATH] [--json]
  nydus-supervisor stop --sock SOCK ID
  nydus-supervisor status --sock SOCK [ID] [--json]`;

class UsageError extends Error {}

interface Parsed {
  flags: Map<string, string | true>;
  positional: string[];
  rest: string[];
}

const BOOLEAN_FLAGS = new Set(['--json', '--help', '--no-standby']);

function parse(argv: string[]): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  for (let i = 0; i < own.length; i++) {
    const arg = own[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
    } else if (BOOLEAN_FLAGS.has(arg)) {
      flags.set(arg, true);
    } else if (arg.includes('=')) {
      flags.set(arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1));
    } else {
      if (i + 1 >= own.length) throw new UsageError(`${arg} needs a value`);
      flags.set(arg, own[++i]);
    }
  }
  return { flags, positional, rest: dash >= 0 ? argv.slice(dash + 1) : [] };
}

function need(p: Parsed, name: string): string {
  const value = p.flags.get(name);
  if (typeof value !== 'string' || value === '') throw new UsageError(`${name} is required`);
  return value;
}

function optional(p: Parsed, name: string): string | undefined {
  const value = p.flags.get(name);
  return typeof value === 'string' ? value : undefined;
}

function printStatus(views: DaemonStatusView[]): void {
  if (views.length === 0) {
    console.log('no daemons');
    return;
  }
  for (const v of views) {
    const last = v.lastHandover
      ? `${v.lastHandover.kind} ${v.lastHandover.ok ? 'ok' : 'FAILED'} at ${v.lastHandover.at} in ${v.lastHandover.durationMs} ms`
      : 'none';
    console.log(`${v.id}: ${v.status}${v.alive ? '' : ' (process gone)'} (daemon says ${v.daemonState}) pid ${v.pid} linked ${v.linked ? 'yes' : 'no'}`);
    console.log(`  binary ${v.binary}`);
    console.log(`  api ${v.apiSock}  state v${v.stateVersion} #${v.stateSequence}, ${v.fdsHeld} fds held${v.fdsLost ? ' (fds lost, waiting for the daemon)' : ''}`);
    console.log(`  handovers ${v.handovers}, last: ${last}`);
  }
}

async function serve(p: Parsed): Promise<void> {
  const supervisor = new Supervisor({ sockPath: need(p, '--sock'), stateDir: optional(p, '--state-dir'), runDir: optional(p, '--run-dir'), standby: !p.flags.has('--no-standby') });
  supervisor.start();
  const shutdown = (signal: string) => {
    console.error(`nydus-supervisor: ${signal}: closing (supervised daemons keep running)`);
    supervisor.close();
    void supervisor.store.flush().then(flushLog).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await new Promise<never>(() => undefined);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const p = parse(rest);
  const sock = () => need(p, '--sock');
  switch (command) {
    case 'serve':
      await serve(p);
      return 0;
    case 'run': {
      if (p.rest.length === 0) throw new UsageError('run needs the nydusd flags after --');
      const view = await callSupervisor<DaemonStatusView>(sock(), 'run', { id: need(p, '--id'), args: p.rest, binary: optional(p, '--binary') });
      if (p.flags.has('--json')) console.log(JSON.stringify(view));
      else console.log(`started ${view.id}: pid ${view.pid}, api ${view.apiSock}`);
      return 0;
    }
    case 'restart': {
      const id = p.positional[0];
      if (!id) throw new UsageError('restart needs a daemon id');
      const result = await callSupervisor<HandoverReport>(sock(), 'restart', { id, binary: optional(p, '--binary') });
      if (p.flags.has('--json')) console.log(JSON.stringify(result));
      else console.log(`${result.message}; handover took ${result.durationMs} ms`);
      return result.ok ? 0 : 1;
    }
    case 'stop': {
      const id = p.positional[0];
      if (!id) throw new UsageError('stop needs a daemon id');
      const result = await callSupervisor<{ stopped: boolean }>(sock(), 'stop', { id });
      console.log(result.stopped ? `stopped ${id}` : `${id} had to be killed`);
      return 0;
    }
    case 'status': {
      const views = await callSupervisor<DaemonStatusView[]>(sock(), 'status', { id: p.positional[0] });
      if (p.flags.has('--json')) console.log(JSON.stringify(p.positional[0] ? views[0] : views, null, 2));
      else printStatus(views);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof UsageError) {
      console.error(`nydus-supervisor: ${err.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`nydus-supervisor: ${err.message}`);
    process.exit(1);
  },
);
