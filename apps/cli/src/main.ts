#!/usr/bin/env node
/**
 * rigctl: the operator's command line over the controller's gRPC API. The commands are specs in their own
 * <name>.command.ts, listed in fleet-commands.ts and operator-commands.ts; rigctl.program.ts makes them a commander
 * program (`rigctl --help`, `rigctl <command> --help`, `rigctl help <command>`, `rigctl completion bash|zsh`).
 */
import { rigctlProgram } from './rigctl.program';

const rigctl = rigctlProgram({
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  now: () => Date.now(),
  env: process.env,
  cwd: process.cwd(),
  tty: process.stderr.isTTY === true,
});

rigctl.run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`rigctl: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
