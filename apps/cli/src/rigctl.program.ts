import { Argument, Command, CommanderError, Option } from 'commander';
import { auditCommand } from './audit.command';
import { brokerConfigCommand, runBrokerConfig } from './broker-config.command';
import { EXIT } from './exit-codes';
import { FLEET_COMMANDS } from './fleet-commands';
import { UsageError, isCommandGroup, type ArgumentSpec, type CommandGroup, type CommandSpec, type FlagSpec, type ParsedArgs } from './fleet-command';
import { CONNECTION_FLAGS, ConnectionOptionError, connectionOptions, type ConnectionFlag, type ConnectionOptions } from './grpc-client';
import { keysCommands, runAdminCommand, type AdminCommand } from './keys.command';
import { OPERATOR_COMMANDS } from './operator-commands';
import { runOperatorCommand, type OperatorCommand } from './operator-command';
import { completionScript, SHELLS, type CompletionHints, type Shell } from './shell-completion';

/** Where rigctl writes and what it reads from its surroundings; tests pass their own. */
export interface ProgramIo {
  /** One line (or lines) to stdout / stderr, as console.log writes them. */
  out(text: string): void;
  err(text: string): void;
  now(): number;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stderr is a terminal (bulk's progress bar). */
  tty: boolean;
}

/** What a parsed command line runs; the defaults call the controller. */
export interface Runners {
  fleet: typeof runOperatorCommand;
  admin: typeof runAdminCommand;
}

const EXIT_CODES_HELP = 'Exit codes:\n  0 ok, 1 failed (rejected, timed out), 2 usage or invalid argument, 3 not found, 4 unauthenticated or denied,\n  5 controller unreachable (docs/api.md)';

/** Under each command's own options: rigctl's, which go anywhere on the line. */
const GLOBAL_OPTIONS_HELP = `Global options (anywhere on the line; rigctl --help describes them):
${wrap([...Object.entries(CONNECTION_FLAGS).map(([name, f]) => `--${name} <${f.placeholder}>`), '--json', '--timeout <ms>'], 100)}`;

/** `words` joined with ", " in lines of at most `width` characters, indented by two. */
function wrap(words: readonly string[], width: number): string {
  const lines: string[] = [];
  for (const word of words) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + word.length + 2 <= width) lines[last] += `, ${word}`;
    else lines.push(`  ${word}`);
  }
  return lines.join(',\n');
}

/** rigctl's command tree, built from the command specs, and the exit code of what it ran. */
export interface RigctlProgram {
  program: Command;
  hints: CompletionHints;
  /** Parses `argv` (without node and the script), runs the command and answers its exit code. */
  run(argv: readonly string[]): Promise<number>;
}

function optionFor(name: string, flag: FlagSpec): Option {
  const flags = flag.kind === 'switch' ? `--${name}` : `--${name} <${flag.placeholder ?? name.toUpperCase()}>`;
  const option = new Option(flags, flag.description);
  if (flag.kind === 'multi') option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  return option;
}

/** "rigctl keys create" */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The usage line and where to find more: printed under every usage error. */
function usageOf(cmd: Command): string {
  return `${cmd.createHelp().commandUsage(cmd)}\n(${commandPath(cmd)} --help ${cmd.commands.length > 0 ? 'lists its commands' : 'shows its options'})`;
}

/** Commander's message in rigctl's words: `unknown option "--bogus"`, `--group needs a value`, `--json takes no value`. */
function usageMessage(err: CommanderError, cmd: Command): string {
  let message = err.message.replace(/^error: /, '');
  const missing = /^option '(--[\w-]+)[^']*' argument missing$/.exec(message);
  if (missing) return `${missing[1]} needs a value`;
  const unknown = /^unknown option '(--[\w-]+)=/.exec(message);
  if (unknown) {
    for (let c: Command | null = cmd; c; c = c.parent) {
      const option = c.options.find((o) => o.long === unknown[1]);
      if (option && !option.required && !option.optional) return `${unknown[1]} takes no value`;
    }
  }
  message = message.replace(/'([^']*)'/g, '"$1"');
  return message;
}

/** The subcommand's parsed options by their spec names, plus the global --json and --timeout. */
function parsedArgs(cmd: Command, flags: Readonly<Record<string, FlagSpec>>): ParsedArgs {
  const args: ParsedArgs = { positional: [...cmd.args], switches: new Set(), values: new Map() };
  for (const [name, flag] of Object.entries(flags)) {
    const option = cmd.options.find((o) => o.long === `--${name}`)!;
    const key = option.attributeName();
    if (cmd.getOptionValueSource(key) !== 'cli') continue;
    if (flag.kind === 'switch') { args.switches.add(name); continue; }
    const raw = cmd.getOptionValue(key) as string | string[];
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.some((v) => v === '')) throw new UsageError(`--${name} needs a value`);
    args.values.set(name, values);
  }
  const globals = cmd.optsWithGlobals<{ json?: boolean; timeout?: string }>();
  if (globals.json) args.switches.add('json');
  if (globals.timeout !== undefined) args.values.set('timeout', [globals.timeout]);
  return args;
}

/**
 * rigctl's commands as a commander program: the gRPC commands from their specs (fleet-commands.ts,
 * operator-commands.ts, keys and audit), broker-config, help and completion. Global options (connection, --json,
 * --timeout) go anywhere on the line; each command and subcommand has its own --help.
 */
export function rigctlProgram(io: ProgramIo, runners: Runners = { fleet: runOperatorCommand, admin: runAdminCommand }): RigctlProgram {
  let exitCode: number = EXIT.OK;
  const optionSpecs = new WeakMap<Option, FlagSpec>();
  const argumentSpecs = new WeakMap<Argument, ArgumentSpec>();
  const hints: CompletionHints = { option: (o) => optionSpecs.get(o), argument: (a) => argumentSpecs.get(a) };

  const program = new Command('rigctl')
    .description("rigctl: the operator's command line over the Rigwarden controller's gRPC API.")
    .usage('[global options] <command> [options]')
    .helpCommand(false)
    .helpOption('-h, --help', 'show this help')
    .optionsGroup('Connection:');
  for (const [name, flag] of Object.entries(CONNECTION_FLAGS)) {
    const option = optionFor(name, flag);
    optionSpecs.set(option, flag);
    program.addOption(option);
  }
  program.optionsGroup('Output:')
    .option('--json', 'print proto3 JSON instead of a table')
    .option('--timeout <ms>', 'give up after this long (default 10000)');

  const connection = (cmd: Command): ConnectionOptions => {
    const globals = cmd.optsWithGlobals<Record<string, string | undefined>>();
    const flags: Partial<Record<ConnectionFlag, string>> = {};
    for (const name of Object.keys(CONNECTION_FLAGS) as ConnectionFlag[]) {
      const option = program.options.find((o) => o.long === `--${name}`)!;
      const given = globals[option.attributeName()];
      if (given !== undefined) flags[name] = given;
    }
    return connectionOptions(flags, io.env, io.cwd);
  };

  /** One command from its spec; `action` answers the exit code. */
  const add = (parent: Command, spec: CommandSpec, action: (args: ParsedArgs, cmd: Command) => Promise<number> | number): Command => {
    const cmd = parent.command(spec.name).summary(spec.summary).description(spec.description ?? `${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`);
    for (const a of spec.arguments ?? []) {
      const argument = new Argument(a.name, a.description);
      argumentSpecs.set(argument, a);
      cmd.addArgument(argument);
    }
    for (const [name, flag] of Object.entries(spec.flags)) {
      const option = optionFor(name, flag);
      optionSpecs.set(option, flag);
      cmd.addOption(option);
    }
    if (spec.checksExtraArguments) cmd.allowExcessArguments(true);
    cmd.addHelpText('after', `\n${GLOBAL_OPTIONS_HELP}`);
    if (spec.examples) cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}`);
    cmd.action(async () => {
      try {
        exitCode = await action(parsedArgs(cmd, spec.flags), cmd);
      } catch (err) {
        if (err instanceof UsageError || err instanceof ConnectionOptionError) {
          io.err(`rigctl: ${err.message}${err instanceof UsageError ? `\n\nusage: ${usageOf(cmd)}` : ''}`);
          exitCode = EXIT.USAGE;
          return;
        }
        throw err;
      }
    });
    return cmd;
  };
  const addGroup = <C extends CommandSpec>(group: CommandGroup<C>, each: (parent: Command, spec: C) => Command): void => {
    const parent = program.command(group.name).summary(group.summary).description(`${group.summary.charAt(0).toUpperCase()}${group.summary.slice(1)}.`)
      .helpCommand(false).addHelpText('after', `\n${GLOBAL_OPTIONS_HELP}`);
    for (const spec of group.commands) each(parent, spec);
  };
  const grpc = (parent: Command, spec: OperatorCommand): Command => {
    const cmd = add(parent, spec, (args, c) => runners.fleet(spec, args, connection(c), { out: io.out, err: io.err, now: io.now, tty: io.tty, usage: usageOf(c) }));
    return cmd.addHelpText('after', `\n${EXIT_CODES_HELP}`);
  };
  const admin = (parent: Command, spec: AdminCommand): Command => {
    const cmd = add(parent, spec, (args, c) => runners.admin(spec, args, connection(c), { out: io.out, err: io.err, now: io.now, usage: usageOf(c) }));
    return cmd.addHelpText('after', `\n${EXIT_CODES_HELP}`);
  };

  program.commandsGroup('Fleet:');
  for (const spec of FLEET_COMMANDS) {
    if (isCommandGroup(spec)) addGroup(spec, grpc);
    else grpc(program, spec);
  }
  program.commandsGroup('Commands to rigs:');
  for (const spec of OPERATOR_COMMANDS) grpc(program, spec);
  program.commandsGroup('Administration:');
  addGroup(keysCommands, admin);
  admin(program, auditCommand);
  program.commandsGroup('Setup:');
  add(program, brokerConfigCommand, (args) => runBrokerConfig(args))
    .addHelpText('after', '\nExit codes:\n  0 written, 2 usage or an invalid agents file');
  add(program, {
    name: 'completion',
    summary: 'print the shell completion script for bash or zsh',
    description: 'Print the shell completion script for bash or zsh: commands, subcommands, options and their values.',
    arguments: [{ name: '<shell>', description: SHELLS.join(' or '), choices: SHELLS }],
    flags: {},
    examples: ['source <(rigctl completion bash)      # in ~/.bashrc', 'source <(rigctl completion zsh)       # in ~/.zshrc, after compinit'],
  }, (args) => {
    const shell = args.positional[0]!;
    if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`completion: unknown shell "${shell}": use ${SHELLS.join(' or ')}`);
    io.out(completionScript(program, shell as Shell, hints));
    return EXIT.OK;
  });
  add(program, {
    name: 'help',
    summary: 'show the help of rigctl or of a command: rigctl help keys create',
    arguments: [{ name: '[command...]', description: 'the command (and its subcommand)' }],
    flags: {},
  }, (args) => {
    let target = program;
    for (const word of args.positional) {
      const sub = target.commands.find((c) => c.name() === word);
      if (!sub) throw new UsageError(`unknown command "${[commandPath(target), word].join(' ').replace(/^rigctl /, '')}": rigctl --help lists them`);
      target = sub;
    }
    target.outputHelp();
    return EXIT.OK;
  });
  program.addHelpText('after', `\n${EXIT_CODES_HELP}\n\n"rigctl help <command>" or "rigctl <command> --help" shows a command's options.`);

  const configure = (cmd: Command): void => {
    cmd.configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
      // Printed with the usage line by the exit override below, which knows the command.
      outputError: () => undefined,
    });
    cmd.exitOverride((err) => {
      if (err.code !== 'commander.helpDisplayed' && err.code !== 'commander.help') io.err(`rigctl: ${usageMessage(err, cmd)}\n\nusage: ${usageOf(cmd)}`);
      throw err;
    });
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);

  return {
    program,
    hints,
    async run(argv) {
      exitCode = EXIT.OK;
      try {
        await program.parseAsync([...argv], { from: 'user' });
        return exitCode;
      } catch (err) {
        if (!(err instanceof CommanderError)) throw err;
        // --help: 0. A command missing (`rigctl`, `rigctl keys`: its help on stderr) or any other usage mistake: 2.
        return err.code === 'commander.helpDisplayed' ? EXIT.OK : EXIT.USAGE;
      }
    },
  };
}
