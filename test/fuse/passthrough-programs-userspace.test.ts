/**
 * The real-program suite (helpers/passthrough-programs-suite.ts) with every read and write served by the daemon
 * (--no-kernel-passthrough): the path kernels without FUSE passthrough, and stacked backing filesystems, take.
 */
import { registerProgramTests } from './helpers/passthrough-programs-suite';

registerProgramTests(['--no-kernel-passthrough']);
