import {Cli} from 'clipanion';
import type {CliOptions, CommandClass, Definition} from 'clipanion';

import type {CapitContext} from '../context.js';
import {InputError}        from '../errors.js';
import {closest, unknownPlatform} from '../ui/suggest.js';
import {displayNames}      from './options.js';

type Usage = ReturnType<Cli<CapitContext>[`getUsageByIndex`]>;

const isOptionLike = (word: string) => word.startsWith(`-`);

/** How many positional arguments `args` holds, skipping options and the values of options that take one. */
function countPositionals(args: readonly string[], options: Definition[`options`]): number {
  // After the display names are applied, an option that takes a value reads `--agent,-a <id>`: it has a space.
  const takesValue = new Set(options.filter(o => o.definition.includes(` `)).flatMap(o => o.nameSet));
  let count = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === `--`) return count + args.length - i - 1;
    if (!isOptionLike(arg)) count++;
    else if (takesValue.has(arg)) i++;
  }
  return count;
}

/** Second words other tools use, mapped to capit's own (`capit platforms ls` → `capit platforms list`). */
const SUBCOMMAND_SYNONYMS: Readonly<Record<string, string>> = {ls: `list`, rm: `remove`, del: `delete`, new: `add`};

/** A first word that is neither a command nor a platform: the nearest one, else how to find (or add) it. */
export function unknownWordError(word: string, commandWords: readonly string[], platformIds: readonly string[]): InputError {
  // Options are compared by their long names only: every one-letter flag is one edit away from every other.
  const candidates = [...platformIds, ...commandWords.filter(w => !isOptionLike(w) || (word.startsWith(`--`) && w.startsWith(`--`)))];
  const near = closest(word, candidates);
  if (near !== undefined && platformIds.includes(near)) return new InputError(unknownPlatform(word, platformIds));
  if (near !== undefined) return new InputError(`Unknown command "${word}"; did you mean \`capit ${near}\`?`);
  // `capit -x`: an option with no command before it.
  if (isOptionLike(word)) return new InputError(`Unknown option "${word}"; run \`capit --help\``);
  if (/^[a-z][a-z0-9-]{1,31}$/.test(word))
    return new InputError(`${unknownPlatform(word, platformIds, {suggestPlugin: true})} (\`capit --help\` lists the commands)`);
  return new InputError(`Unknown command "${word}"; run \`capit --help\``);
}

/**
 * capit's clipanion CLI: help with named option values (options.ts), one listing per command group, and parse errors
 * that say what was wrong — an unknown word with the nearest known one, a missing argument with the usage and an example.
 */
export class CapitCli extends Cli<CapitContext> {
  /** Every registered command class, in registration order. */
  readonly commandClasses: CommandClass<CapitContext>[] = [];

  constructor(opts: Partial<CliOptions> & {enableColors: boolean}, private readonly platformIds: readonly string[]) {
    super(opts);
  }

  /** Command classes known by their words but not registered: this run's first word cannot reach them. */
  private readonly knownClasses: CommandClass<CapitContext>[] = [];

  override register(commandClass: CommandClass<CapitContext>): void {
    super.register(commandClass);
    this.commandClasses.push(commandClass);
  }

  /** Records a command's words (for `topWords` and suggestions) without compiling it into the parser. */
  know(commandClass: CommandClass<CapitContext>): void {
    this.knownClasses.push(commandClass);
  }

  // Every usage line clipanion prints (general help, command help, errors) is built here; swap in the display names.
  protected override getUsageByIndex(n: number, opts?: {detailed?: boolean; inlineOptions?: boolean}): Usage {
    const result = super.getUsageByIndex(n, opts);
    // clipanion keeps its builders private; the builder is only used as the key the option helpers stored names under.
    const builder = (this as unknown as {builder: {getBuilderByIndex(index: number): object}}).builder.getBuilderByIndex(n);
    const shown = displayNames(builder);
    if (!shown) return result;
    let {usage} = result;
    for (const [names, text] of shown) {
      for (const raw of [`${names} #0`, names]) {
        usage = usage.split(`[${raw}]`).join(`[${text}]`).split(`<${raw}>`).join(`<${text}>`);
      }
    }
    const options = result.options.map(option => {
      const text = shown.get(option.nameSet.join(`,`));
      return text === undefined ? option : {...option, definition: text};
    });
    return {usage, options};
  }

  /** The first words of every command and platform (`keys`, `openrouter`, `--keys`, `-h` …). */
  topWords(): Set<string> {
    const words = new Set<string>(this.platformIds);
    for (const commandClass of [...this.commandClasses, ...this.knownClasses])
      for (const path of commandClass.paths ?? []) if (path.length > 0) words.add(path[0]!);
    return words;
  }

  /** The command classes one of whose paths starts with `word`. */
  private classesUnder(word: string): CommandClass<CapitContext>[] {
    return this.commandClasses.filter(c => (c.paths ?? []).some(path => path[0] === word));
  }

  /**
   * `capit keys --help`, `capit agents --help`: help for the words around `--help`, with each command once. clipanion
   * would list a command once per path that matches (`agents` and `agents list`), so capit renders it: a command's own
   * detailed help when the leading words name one command (`keys delete foo`, `openrouter 5 --agent x`: the longest
   * command path they start with), the group's commands when they name several, undefined otherwise.
   */
  helpFor(argv: readonly string[], colored: boolean): string | undefined {
    // The leading words; a first word may be a legacy spelling that looks like an option (`--keys`, `--platforms`).
    const firstOption = argv.findIndex((word, i) => isOptionLike(word) && !(i === 0 && this.topWords().has(word)));
    const words = firstOption === -1 ? argv : argv.slice(0, firstOption);
    if (words.length === 0) return undefined;
    const commands = this.commandClasses.filter(c => c.usage !== undefined
      && (c.paths ?? []).some(path => path.length >= words.length && words.every((word, i) => path[i] === word)));
    if (commands.length === 1) return this.usage(commands[0]!, {colored, detailed: true});
    if (commands.length === 0 || words.length !== 1) {
      const found = this.commandFor(words);
      return found && found.commandClass.usage !== undefined ? this.usage(found.commandClass, {colored, detailed: true}) : undefined;
    }
    const format = this.format(colored);
    const categories = [...new Set(commands.map(c => c.usage?.category).filter(Boolean))];
    let text = `${format.header(categories.join(`, `) || words[0]!)}\n`;
    for (const commandClass of commands) {
      const {usage} = this.getUsageByRegistration(commandClass);
      text += `\n  ${format.bold(usage)}\n    ${commandClass.usage?.description ?? ``}\n`;
    }
    // The current spelling of a legacy group word (`--keys` → `keys`).
    const group = words[0]!.replace(/^--/, ``);
    text += `\nRun \`${this.binaryName} ${group} <command> --help\` for a command's options and examples.\n`;
    return text;
  }

  /** The second word of each command in a group, without aliases: `list`, `delete`, … for `keys`. */
  private subcommandNames(group: string): string[] {
    const names = this.classesUnder(group).map(c => (c.paths ?? []).find(p => p[0] === group && p.length > 1)?.[1]);
    return [...new Set(names.filter((n): n is string => n !== undefined))];
  }

  /** The registered command that `argv` names (the longest path its leading words match). */
  commandFor(argv: readonly string[]): {commandClass: CommandClass<CapitContext>; path: string[]} | undefined {
    let best: {commandClass: CommandClass<CapitContext>; path: string[]} | undefined;
    for (const commandClass of this.commandClasses) {
      for (const path of commandClass.paths ?? []) {
        if (path.length === 0 || path.length > argv.length || !path.every((word, i) => argv[i] === word)) continue;
        if (!best || path.length > best.path.length) best = {commandClass, path};
      }
    }
    return best;
  }

  /**
   * `--expires -1d` → `--expires=-1d`: a value that starts with `-` and a digit (a negative duration or number) looks
   * like an option to clipanion, which then says the value is missing. Joined to its option, the value reaches the
   * command, which names the real problem. Only options that take a value, and only before `--`.
   */
  attachDashValues(argv: readonly string[]): string[] {
    const found = this.commandFor(argv);
    if (!found) return [...argv];
    const options = this.definition(found.commandClass)?.options ?? [];
    // After the display names are applied, an option that takes a value reads `--expires <duration|date>`: a space.
    const takesValue = new Set(options.filter(o => o.definition.includes(` `)).flatMap(o => o.nameSet));
    const out: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === `--`) return [...out, ...argv.slice(i)];
      const next = argv[i + 1];
      if (i >= found.path.length && takesValue.has(arg) && next !== undefined && /^-\.?\d/.test(next)) {
        out.push(`${arg}=${next}`);
        i++;
      } else {
        out.push(arg);
      }
    }
    return out;
  }

  /** `capit openrouter <usd>`: the command's path and positional arguments, without its options. */
  private positionalUsage(commandClass: CommandClass<CapitContext>): {line: string; required: string[]} {
    const {usage} = this.getUsageByRegistration(commandClass, {detailed: true, inlineOptions: false});
    const withoutOptions = usage.replace(/ [[<]-[^\]>]*[\]>]/g, ``);
    const required = [...withoutOptions.matchAll(/<([^>]+)>/g)].map(m => `<${m[1]}>`);
    return {line: withoutOptions, required};
  }

  /** A word that is neither a command nor a platform: the nearest one, else how to find (or add) it. */
  unknownWordError(word: string): InputError {
    return unknownWordError(word, [...this.topWords()].filter(w => !this.platformIds.includes(w)), this.platformIds);
  }

  /**
   * A parse error from clipanion, explained: an unknown word or option with the nearest known one, a missing argument
   * with the usage and an example. Anything else is returned unchanged.
   */
  explain(error: unknown, argv: readonly string[]): unknown {
    const name = (error as Error | undefined)?.name;
    if (name !== `UnknownSyntaxError` && name !== `AmbiguousSyntaxError`) return error;
    const message = String((error as Error).message);
    const first = argv[0];
    if (first === undefined) return error;
    if (!this.topWords().has(first)) return this.unknownWordError(first);

    const found = this.commandFor(argv);
    // `capit plugin ad x`: the group exists, its second word does not.
    const second = argv[1];
    const subcommands = new Set(this.classesUnder(first).flatMap(c => (c.paths ?? []).filter(p => p[0] === first && p.length > 1).map(p => p[1]!)));
    if ((!found || found.path.length === 1) && second !== undefined && !isOptionLike(second) && subcommands.size > 0 && !subcommands.has(second)) {
      // Spellings from other tools (`ls`, `rm`) too far from capit's word for an edit-distance match.
      const synonym = SUBCOMMAND_SYNONYMS[second];
      const near = synonym !== undefined && subcommands.has(synonym) ? synonym : closest(second, subcommands);
      if (near !== undefined) return new InputError(`Unknown command "${first} ${second}"; did you mean \`${this.binaryName} ${first} ${near}\`?`);
      if (!found) return new InputError(`Unknown command "${first} ${second}"; \`${this.binaryName} ${first} --help\` lists them`);
    }
    // `capit plugin`: a group word alone.
    if (!found && (second === undefined || isOptionLike(second)) && subcommands.size > 0)
      return new InputError(`\`${this.binaryName} ${first}\` needs a command: ${this.subcommandNames(first).join(`, `)} (\`${this.binaryName} ${first} --help\` describes them)`);
    if (!found) return error;
    const command = `${this.binaryName} ${found.path.join(` `)}`;
    const definition = this.definition(found.commandClass);

    if (message.startsWith(`Unsupported option name`)) {
      const names = new Set((definition?.options ?? []).flatMap(o => o.nameSet.flatMap(n => (n.startsWith(`--`) ? [n, `--no-${n.slice(2)}`] : [n]))));
      for (const builtin of [`-h`, `--help`]) names.add(builtin);
      const unknown = argv.slice(found.path.length).map(a => a.split(`=`)[0]!).find(a => isOptionLike(a) && a !== `--` && !names.has(a) && !/^-\d/.test(a));
      if (unknown !== undefined) {
        // Only long names are compared: every one-letter flag is one edit away from every other.
        const longNames = [...names].filter(n => n.startsWith(`--`) && !n.startsWith(`--no-`));
        const near = unknown.startsWith(`--`) ? closest(unknown, longNames) : undefined;
        // `capit keys list --platform openrouter`: the other keys commands take --platform; this one an argument.
        const positional = unknown.replace(/^-+/, ``);
        const asArgument = [`--platform`, `-p`].includes(unknown) && this.positionalUsage(found.commandClass).line.includes(`[${positional === `p` ? `platform` : positional}]`);
        const hint = asArgument ? `the platform is an argument here: \`${command} <platform>\`, e.g. \`${command} openrouter\``
          : near !== undefined ? `did you mean "${near}"?` : `\`${command} --help\` lists its options`;
        return new InputError(`Unknown option "${unknown}" for \`${command}\`; ${hint}`);
      }
    }
    if (message.startsWith(`Not enough positional arguments`)) {
      const {line, required} = this.positionalUsage(found.commandClass);
      const example = found.commandClass.usage?.examples?.[0]?.[1]?.replace(/\$0/g, this.binaryName);
      const given = countPositionals(argv.slice(found.path.length), definition?.options ?? []);
      const absent = required.slice(Math.min(given, required.length - 1));
      const missing = absent.length > 0 ? `missing ${absent.join(` `)}` : `missing an argument`;
      return new InputError(`${missing}; usage: ${line}${definition?.options.length ? ` [options]` : ``}${example ? `, e.g. ${example}` : ``}`);
    }
    const optionValue = /^Not enough arguments to option (\S+?)\.?$/.exec(message.split(`\n`)[0]!);
    if (optionValue) {
      const option = definition?.options.find(o => o.nameSet.includes(optionValue[1]!));
      return new InputError(`${optionValue[1]} needs a value: ${option?.definition ?? optionValue[1]} (\`${command} --help\` lists its options)`);
    }
    // Anything else clipanion could not match (too many arguments, …): the command's usage instead of its bare
    // "Command not found; did you mean one of:".
    const {line} = this.positionalUsage(found.commandClass);
    const firstLine = message.split(`\n`)[0]!.replace(/\.$/, ``);
    if (!firstLine.startsWith(`Command not found`))
      return new InputError(`${firstLine}; usage: ${line}${definition?.options.length ? ` [options]` : ``} (\`${command} --help\` for more)`);
    return new InputError(`Cannot read \`${[this.binaryName, ...argv].join(` `)}\`; usage: ${line}${definition?.options.length ? ` [options]` : ``} (\`${command} --help\` for more)`);
  }
}
