/** The `slipway` command as bundled into dist/cli (bin/slipway.js loads it): run, and exit with main's code. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
