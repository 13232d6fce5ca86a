/**
 * A successor binary whose Takeover must fail: it runs the real nydusd, but pointed at a supervisor socket that
 * does not exist, so fetching the handover state fails after the old daemon has already been stopped.
 * Used to check that a failed hot upgrade rolls back (the old daemon Starts again).
 */
import { NYDUSD } from './cli';

const at = process.argv.indexOf('--supervisor');
if (at >= 0) process.argv[at + 1] = '/nonexistent/nydus-supervisor.sock';
require(NYDUSD);
