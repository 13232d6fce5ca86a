/**
 * The real-program suite (helpers/passthrough-programs-suite.ts) with FUSE kernel passthrough, where the kernel
 * offers it (Linux 6.9+): open files are read and written by the kernel, everything else by the daemon.
 */
import { registerProgramTests } from './helpers/passthrough-programs-suite';

registerProgramTests([]);
