/**
 * App configuration from flags and `BRAID_*` environment variables,
 * validated by a zod schema into one typed object. Precedence: flag, then
 * environment variable, then the option's default. Apps call this once in
 * `main.ts` with `process.argv` and `process.env`; nothing else reads the
 * environment.
 */
import { Command, CommanderError, Option } from 'commander';
import type { z } from 'zod';

/** One configurable setting. */
export interface ConfigOption {
  /** Property name in the parsed config. */
  key: string;
  /** Flag with its value placeholder, e.g. `--port <number>` (or `--verbose` for a boolean). */
  flag: string;
  /** Environment variable, e.g. `BRAID_BROKER_PORT`. */
  env: string;
  /** One line for `--help`. */
  description: string;
  /** Default as text (shown in `--help`, validated by the schema like any value). */
  default?: string;
}

/** What `parseConfig` needs. */
export interface ConfigSpec<S extends z.ZodType> {
  /** Program name for `--help`. */
  name: string;
  /** One paragraph for `--help`. */
  description: string;
  /** The settings. */
  options: ConfigOption[];
  /** Validates and converts the raw strings (use `z.coerce` for numbers). */
  schema: S;
}

/** Bad configuration: the message names every offending flag / variable. */
export class ConfigError extends Error {
  constructor(
    message: string,
    /** Exit code the app should use (0 after `--help`/`--version`). */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `argv` (as in `process.argv`, program path first) and `env` into a
 * validated config. Throws `ConfigError` on bad input and after `--help`.
 */
export function parseConfig<S extends z.ZodType>(
  spec: ConfigSpec<S>,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  write: (text: string) => void = (text) => { process.stdout.write(text); },
): z.infer<S> {
  const program = new Command(spec.name)
    .description(spec.description)
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: write })
    .allowExcessArguments(false);
  for (const option of spec.options) {
    const commanderOption = new Option(option.flag, `${option.description} [env: ${option.env}]`);
    if (option.default !== undefined) commanderOption.default(option.default);
    program.addOption(commanderOption);
  }
  try {
    program.parse([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      const helpShown = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
      throw new ConfigError(helpShown ? '' : error.message, helpShown ? 0 : 2);
    }
    throw error;
  }
  const flags = program.opts<Record<string, unknown>>();
  const raw: Record<string, unknown> = {};
  for (const option of spec.options) {
    const attribute = program.options.find((o) => o.long === option.flag.split(' ')[0])?.attributeName() ?? option.key;
    const fromFlag = program.getOptionValueSource(attribute) === 'cli';
    const fromEnv = env[option.env];
    if (fromFlag) raw[option.key] = flags[attribute];
    else if (fromEnv !== undefined && fromEnv !== '') raw[option.key] = fromEnv;
    else raw[option.key] = flags[attribute];
  }
  const result = spec.schema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const option = spec.options.find((o) => o.key === issue.path[0]);
      const where = option ? `${option.flag.split(' ')[0] ?? option.key} / ${option.env}` : issue.path.join('.');
      return `  ${where}: ${issue.message} (got ${JSON.stringify(raw[String(issue.path[0])])})`;
    });
    throw new ConfigError(`invalid configuration for ${spec.name}:\n${lines.join('\n')}`);
  }
  return result.data;
}
