// How an option reads in help. clipanion prints every option value as `#0` (`--agent,-a #0`) and a boolean that defaults
// to true under the name that turns it on (`--open`), which nobody types; capit's help says `--agent,-a <id>` and
// `--no-open`, as the README does. The parser is untouched: only the text clipanion renders is replaced (commands/cli.ts).

/** The slice of clipanion's option spec and command builder that a display name hooks into. */
interface OptionSpec {
  definition(builder: OptionBuilder, key: string): void;
}
interface OptionBuilder {
  addOption(option: {names: string[]; arity?: number}): void;
}

/** Per command builder: the option's names as clipanion joins them (`--agent,-a`) → the text help shows instead. */
const shownAs = new WeakMap<object, Map<string, string>>();

export function displayNames(builder: object): ReadonlyMap<string, string> | undefined {
  return shownAs.get(builder);
}

function display<T>(option: T, render: (names: string[]) => string): T {
  const spec = option as unknown as OptionSpec;
  const define = spec.definition.bind(spec);
  spec.definition = (builder, key) => {
    // Learn the names clipanion registers, then leave the builder as it was.
    const addOption = builder.addOption;
    builder.addOption = registered => {
      addOption.call(builder, registered);
      let shown = shownAs.get(builder);
      if (!shown) shownAs.set(builder, shown = new Map());
      shown.set(registered.names.join(`,`), render(registered.names));
    };
    try {
      define(builder, key);
    } finally {
      builder.addOption = addOption;
    }
  };
  return option;
}

/** An option that takes a value, shown as `--agent,-a <id>`: `withValue('<id>', Option.String('--agent,-a', …))`. */
export function withValue<T>(placeholder: string, option: T): T {
  return display(option, names => `${names.join(`,`)} ${placeholder}`);
}

/** A boolean that is on by default, shown as the flag that changes something: `--no-open` (clipanion accepts both). */
export function shownNegated<T>(option: T): T {
  return display(option, names => names.map(name => name.replace(/^--/, `--no-`)).join(`,`));
}
