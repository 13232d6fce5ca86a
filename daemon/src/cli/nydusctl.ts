#!/usr/bin/env node
/**
 * nydusctl: talks to a running nydusd over its gRPC API socket. Prints tables by default and JSON with --json;
 * on an error prints the server's status and message and exits 1 (2 for bad usage).
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { connectDaemon, DaemonMethod } from '../api/client';
import { formatInfo, formatMetrics, stateName } from '../api/ctl-format';
import type { StateReplyMessage } from '../api/message-types';
import { status as GrpcStatus } from '@grpc/grpc-js';

const USAGE = `Usage: nydusctl --sock SOCK <command>

Commands:
  info [--json]                 daemon identity, version, state and mounted filesystems
  state                         the daemon state (INIT, READY, RUNNING, STOPPED)
  start | stop                  resume / stop serving (the mount stays; applications wait while stopped)
  exit                          end the daemon WITHOUT unmounting (for a successor to take over)
  takeover                      take over the mount from the supervisor's saved state (daemon started --upgrade)
  sendfd                        push the daemon's state and /dev/fuse fd to its supervisor
  mount --fs-type T --source S --mountpoint /sub [--config FILE] [--prefetch-files PATH ...]
  umount /sub
  metrics [--json] [--mountpoint /sub]
  set-log-level LEVEL           error, warn, info, debug or trace`;

class UsageError extends Error {}

interface Plan {
  method: DaemonMethod;
  request: Record<string, unknown>;
  /** The reply is the method's message type (message-types.ts). */
  print: (reply: never) => string;
}

function plan(command: string, rest: string[], json: boolean): Plan {
  const asJson = (reply: unknown) => JSON.stringify(reply, null, 2);
  const newState = (reply: StateReplyMessage) => stateName(reply.state);
  const noArgs = () => {
    if (rest.length > 0) throw new UsageError(`"${command}" takes no arguments, got ${rest.join(' ')}`);
  };
  switch (command) {
    case 'info':
      noArgs();
      return { method: 'ExportInfo', request: { include_fs_info: true }, print: json ? asJson : formatInfo };
    case 'state':
      noArgs();
      return { method: 'ExportInfo', request: {}, print: (reply: StateReplyMessage) => (json ? asJson({ state: stateName(reply.state) }) : newState(reply)) };
    case 'start':
    case 'stop':
    case 'exit':
    case 'takeover': {
      noArgs();
      const method = ({ start: 'Start', stop: 'Stop', exit: 'Exit', takeover: 'Takeover' } as const)[command];
      return { method, request: {}, print: json ? asJson : newState };
    }
    case 'sendfd':
      noArgs();
      return { method: 'SendFuseFd', request: {}, print: () => 'state sent to the supervisor' };
    case 'mount': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: {
          'fs-type': { type: 'string' },
          source: { type: 'string' },
          mountpoint: { type: 'string' },
          config: { type: 'string' },
          'prefetch-files': { type: 'string', multiple: true },
        },
        allowPositionals: true,
      });
      if (positionals.length > 0) throw new UsageError(`Unexpected argument ${positionals[0]}`);
      for (const flag of ['fs-type', 'source', 'mountpoint'] as const) {
        if (!values[flag]) throw new UsageError(`mount needs --${flag}`);
      }
      let config = '';
      if (values.config) {
        try {
          config = fs.readFileSync(values.config, 'utf8');
        } catch (err) {
          throw new UsageError(`Cannot read --config ${values.config}: ${(err as Error).message}`);
        }
      }
      const request = {
        fs_type: values['fs-type'],
        source: values.source,
        mountpoint: values.mountpoint,
        config,
        prefetch_files: values['prefetch-files'] ?? [],
      };
      return { method: 'Mount', request, print: (reply: { index: number }) => (json ? asJson(reply) : `mounted ${values['fs-type']} at ${values.mountpoint} (index ${reply.index})`) };
    }
    case 'umount':
      if (rest.length !== 1) throw new UsageError('umount needs exactly one mountpoint, e.g. "umount /sub"');
      return { method: 'Umount', request: { mountpoint: rest[0] }, print: () => (json ? '{}' : `unmounted ${rest[0]}`) };
    case 'metrics': {
      const { values, positionals } = parseArgs({ args: rest, options: { mountpoint: { type: 'string' } }, allowPositionals: true });
      if (positionals.length > 0) throw new UsageError(`Unexpected argument ${positionals[0]}`);
      return { method: 'GetMetrics', request: { mountpoint: values.mountpoint ?? '' }, print: json ? asJson : formatMetrics };
    }
    case 'set-log-level':
      if (rest.length !== 1) throw new UsageError('set-log-level needs one level: error, warn, info, debug or trace');
      return { method: 'SetLogLevel', request: { level: rest[0] }, print: (reply: { level: string }) => (json ? asJson(reply) : `log level is ${reply.level}`) };
    default:
      throw new UsageError(`Unknown command "${command}"`);
  }
}

async function main(argv: string[]): Promise<number> {
  let sock: string | undefined;
  let json = false;
  let commandPlan: Plan;
  try {
    const args = [...argv];
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (arg === '--help' || arg === '-h') {
        process.stdout.write(USAGE + '\n');
        return 0;
      } else if (arg === '--sock') {
        sock = args[++i];
        if (!sock || sock.startsWith('--')) throw new UsageError('--sock needs a value');
      } else if (arg.startsWith('--sock=')) {
        sock = arg.slice('--sock='.length);
      } else if (arg === '--json') {
        json = true;
      } else {
        rest.push(arg);
      }
    }
    if (!sock) throw new UsageError('--sock SOCK is required');
    if (rest.length === 0) throw new UsageError('A command is required');
    commandPlan = plan(rest[0], rest.slice(1), json);
  } catch (err) {
    process.stderr.write(`nydusctl: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const client = connectDaemon(sock);
  try {
    const reply = await client.call(commandPlan.method, commandPlan.request);
    process.stdout.write(commandPlan.print(reply as never) + '\n');
    return 0;
  } catch (err) {
    const { code, details } = err as { code?: number; details?: string };
    const name = code === undefined ? 'ERROR' : GrpcStatus[code] ?? String(code);
    process.stderr.write(`nydusctl: ${name}: ${details ?? (err as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
