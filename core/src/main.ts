import {Builtins, Cli}   from 'clipanion';

import {CapitCli}        from './commands/cli.js';

import {generalHelp, HelpCommand} from './commands/help.js';
import {platformCommand} from './commands/platform.js';
import {commands as agentCommands}    from './commands/agents/index.js';
import {commands as keyCommands}      from './commands/keys/index.js';
import {commands as platformCommands} from './commands/platforms/index.js';
import {commands as pluginCommands}   from './commands/plugin/index.js';
import {GcCommand}       from './commands/gc.js';
import {RestoreCommand}  from './commands/restore.js';
import {RotateCommand}   from './commands/rotate.js';
import {RunCommand}      from './commands/run.js';
import {TopupCommand}    from './commands/topup.js';
import {WatchCommand}    from './commands/watch.js';
import {ReportCommand}  from './commands/report.js';
import {commands as serveCommands}    from './commands/serve/index.js';
import {UnknownCommand}  from './commands/unknown.js';
import type {CapitContext} from './context.js';
import {InputError}      from './errors.js';
import {findNegativeAmount} from './issue/inputs.js';
import {discover}        from './plugins/sources.js';
import type {Discovery}  from './plugins/discover.js';
import {storeHelp, wantsColor} from './ui/help-cache.js';
import {formatError}     from './ui/report.js';
import {capitVersion} from './self.js';
import type {Env}        from './state/paths.js';

export {capitVersion, discover};

/** Every command outside the platforms, in the order help lists them; each group owns its list (commands/<group>/index.ts). */
const groupCommands = () => [...keyCommands, ...platformCommands, ...agentCommands, ...pluginCommands, ...serveCommands, RestoreCommand, RotateCommand, GcCommand, RunCommand, TopupCommand, WatchCommand, ReportCommand];

/**
 * Builds the clipanion CLI. clipanion compiles every registered command into its parser (~1 ms per platform, ~10 ms
 * for all), so a run registers only what its first word can reach: `platforms` says which generated platform commands
 * to register, `groups` which command groups (by first word: `keys`, `agents`, …). The others are still known by
 * their words (`cli.topWords()`), so an unknown word gets the same suggestion as with everything registered.
 */
export function buildCli(plugins: Discovery, colors: boolean, platforms: `all` | readonly string[] = `all`, groups: `all` | readonly string[] = `all`): CapitCli {
  const platformIds = plugins.platforms.map(p => p.manifest.id);
  const cli = new CapitCli({binaryLabel: `capit`, binaryName: `capit`, binaryVersion: capitVersion(), enableColors: colors}, platformIds);
  // Registered first: clipanion's general usage only lists commands when a documented one comes after the default.
  cli.register(UnknownCommand);
  cli.register(HelpCommand);
  cli.register(Builtins.VersionCommand);
  for (const platform of plugins.platforms)
    if (platforms === `all` || platforms.includes(platform.manifest.id))
      cli.register(platformCommand(platform.manifest));
  for (const command of groupCommands()) {
    if (groups === `all` || (command.paths ?? []).some(path => path.length > 0 && groups.includes(path[0]!))) cli.register(command);
    else cli.know(command);
  }
  return cli;
}

/** The first words a command group answers to (`keys`, `platforms`, `restore`, …). */
function groupWords(): Set<string> {
  return new Set(groupCommands().flatMap(command => (command.paths ?? []).map(path => path[0]).filter((w): w is string => w !== undefined)));
}

const HELP_ARGS: ReadonlySet<string> = new Set([`-h`, `--help`, `help`]);

export function isHelpRequest(argv: readonly string[]): boolean {
  return argv.length === 0 || (argv.length === 1 && HELP_ARGS.has(argv[0]!));
}

export interface MainOptions {
  env?: Env;
  cwd?: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  interactive?: boolean;
  /** Set by the entry point when it looked for a cached help under this key and found none. */
  helpKey?: string;
}

export async function main(argv: string[], opts: MainOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const plugins = discover(env, cwd);
  const warnings = plugins.diagnostics
    .map(d => `capit: warning: skipped plugin ${d.packageName ?? `(unnamed)`} at ${d.dir}: ${d.message}\n`).join(``);
  stderr.write(warnings);

  const colors = wantsColor(env, stdout);
  // The general help is rendered straight from the registrations, without compiling a parser for every command,
  // and cached for the next time (see help-cache.ts).
  if (isHelpRequest(argv)) {
    const text = generalHelp(buildCli(plugins, colors, `all`), plugins, colors);
    stdout.write(text);
    if (opts.helpKey) storeHelp(env, opts.helpKey, {stdout: text, stderr: warnings});
    return 0;
  }
  // `capit openrouter …`, `capit help openrouter`: the platform command named, if any.
  const target = argv[0] === `help` ? argv[1] : argv[0];
  const isPlatform = plugins.platforms.some(p => p.manifest.id === target);
  // Only the command the first word names; any other word (unknown, an option) gets everything, so clipanion's own
  // handling and the suggestions see what they would with every command registered.
  const isGroup = target !== undefined && groupWords().has(target);
  const cli = isPlatform || isGroup
    ? buildCli(plugins, colors, isPlatform ? [target!] : [], isGroup ? [target!] : [])
    : buildCli(plugins, colors, `all`, `all`);
  const context: CapitContext = {
    ...Cli.defaultContext,
    stdin: opts.stdin ?? process.stdin,
    stdout: stdout as NodeJS.WriteStream,
    stderr: stderr as NodeJS.WriteStream,
    colorDepth: colors ? 8 : 1,
    env,
    cwd,
    plugins,
    interactive: opts.interactive ?? Boolean(process.stdin.isTTY && process.stderr.isTTY),
  };

  // `capit keys --help`: the group's commands once each (clipanion lists a command once per matching path).
  // `capit openrouter 5 --help`: a help flag anywhere after the first word (before `--`) asks for that command's help.
  const options = argv.includes(`--`) ? argv.slice(0, argv.indexOf(`--`)) : argv;
  const helpWords = argv.length >= 2 && argv[0] === `help` ? argv.slice(1)
    : options.slice(1).some(a => a === `-h` || a === `--help`) ? argv.filter(a => a !== `-h` && a !== `--help`) : undefined;
  if (helpWords) {
    const text = cli.helpFor(helpWords, colors);
    if (text !== undefined) {
      stdout.write(text);
      return 0;
    }
  }

  let command;
  try {
    // A first word that is no command and no platform: say which one was meant, whatever options follow.
    const firstWord = argv[0] === `help` && argv.length > 1 ? argv[1]! : argv[0]!;
    if (!firstWord.startsWith(`-`) && !cli.topWords().has(firstWord)) throw cli.unknownWordError(firstWord);
    // A negative amount looks like an option to any argv parser; name the real problem instead.
    const negative = plugins.platforms.some(p => p.manifest.id === argv[0]) ? findNegativeAmount(argv.slice(1)) : undefined;
    if (negative !== undefined) throw new InputError(`Invalid amount "${negative}": the cap must be a positive dollar amount, e.g. 5 or 0.50`);
    command = cli.process(cli.attachDashValues(argv), context);
  } catch (error) {
    const {text, exitCode} = formatError(cli.explain(error, argv));
    stderr.write(text);
    return exitCode;
  }
  return cli.run(command, context);
}
