import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake on the command line, in the words the agent's usage errors use (`unknown option "--x"`). */
export class ArgvError extends Error {
  override readonly name = 'ArgvError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** One option or positional argument, in command-line order. */
export type ArgvToken = { kind: 'option'; name: string; value: string | undefined } | { kind: 'positional'; value: string };

/**
 * `argv` parsed by node's util.parseArgs (strict: unknown options are errors; `--flag value` and `--flag=value`),
 * as tokens in order; its errors become an ArgvError with a short message naming the option.
 */
export function parseArgv(argv: readonly string[], options: Options): ArgvToken[] {
  try {
    const { tokens } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, tokens: true });
    return tokens.flatMap((t): ArgvToken[] => {
      if (t.kind === 'option') return [{ kind: 'option', name: t.name, value: t.value }];
      if (t.kind === 'positional') return [{ kind: 'positional', value: t.value }];
      return []; // the "--" terminator
    });
  } catch (err) {
    const message = (err as Error).message;
    const code = (err as NodeJS.ErrnoException).code;
    const flag = /'(?:-\w, )?(--?[\w-]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new ArgvError(`unknown option "${flag}"`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new ArgvError(/does not take an argument/.test(message) ? `${flag} takes no value` : `${flag} needs a value`);
    }
    throw new ArgvError(message.split('\n')[0]!);
  }
}
