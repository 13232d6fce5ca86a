/**
 * The Daemon service's RPC handlers: each decodes its request (messages.ts), calls the DaemonControl and answers;
 * every error becomes a status through grpcStatusOf() and nothing here throws into grpc-js. A request whose bytes
 * do not decode arrives as a MalformedRequest (see server.ts) and is answered INVALID_ARGUMENT.
 */
import * as grpc from '@grpc/grpc-js';
import { NydusError } from '../errors';
import { grpcStatusOf } from './status';
import { Logger, setLogLevel } from '../log';
import type { DaemonControl } from './control';
import {
  daemonInfoMessage,
  logLevelFrom,
  metricsMessage,
  mountCommandFrom,
  mountpointFrom,
  stateMessage,
} from './messages';

export class MalformedRequest {
  constructor(readonly reason: string) {}
}

type Request = Record<string, unknown>;
type Handler = (request: Request) => Promise<object>;

function unary(name: string, logger: Logger, handler: Handler): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const request = call.request as Request | MalformedRequest;
    const answer = async () => {
      if (request instanceof MalformedRequest) {
        throw new NydusError('InvalidArguments', `Malformed ${name} request: ${request.reason}`);
      }
      return handler(request ?? {});
    };
    answer().then(
      (reply) => callback(null, reply),
      (err: unknown) => {
        const status = grpcStatusOf(err);
        logger.info('request refused', { rpc: name, code: grpc.status[status.code], details: status.details });
        callback({ code: status.code, details: status.details });
      },
    );
  };
}

export function daemonHandlers(control: DaemonControl, logger: Logger): grpc.UntypedServiceImplementation {
  const stateReply = async (run: () => Promise<unknown>) => {
    await run();
    return { state: stateMessage(control.state) };
  };
  return {
    ExportInfo: unary('ExportInfo', logger, async (request) => daemonInfoMessage(control, request.include_fs_info === true)),
    Start: unary('Start', logger, () => stateReply(() => control.start())),
    Stop: unary('Stop', logger, () => stateReply(() => control.stopService())),
    Exit: unary('Exit', logger, () => stateReply(() => control.triggerExit())),
    Takeover: unary('Takeover', logger, (request) => stateReply(async () => {
      await control.takeover();
      if (request.start === true) await control.start();
    })),
    SendFuseFd: unary('SendFuseFd', logger, async () => {
      await control.sendFuseFd();
      return {};
    }),
    Mount: unary('Mount', logger, async (request) => ({ index: await control.mount(mountCommandFrom(request)) })),
    Umount: unary('Umount', logger, async (request) => {
      await control.umount(mountpointFrom(request));
      return {};
    }),
    GetMetrics: unary('GetMetrics', logger, async (request) => {
      const only = typeof request.mountpoint === 'string' ? request.mountpoint : '';
      const reports = control.metrics();
      if (only === '') return metricsMessage(reports);
      const selected = reports.filter((report) => report.mountpoint === only);
      if (selected.length === 0) throw new NydusError('NotFound', `No filesystem is mounted at ${only}`);
      return metricsMessage(selected);
    }),
    SetLogLevel: unary('SetLogLevel', logger, async (request) => {
      const level = logLevelFrom(request);
      setLogLevel(level);
      logger.info('log level changed', { level });
      return { level };
    }),
  };
}
