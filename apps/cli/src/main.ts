/** Entry point of the `braid` command: wiring only. */
import { processIo } from './context.js';
import { runProgram } from './program.js';

await runProgram(processIo(), process.env, process.argv.slice(2));
