import {Command, Option} from 'clipanion';

import {BaseCommand} from '../base.js';

export class PluginAddCommand extends BaseCommand {
  static override paths = [[`plugin`, `add`], [`plugins`, `add`]];

  static override usage = Command.Usage({
    category: `Plugins`,
    description: `Install a platform or agent plugin (npm name, tarball, or a local folder to link)`,
    details: `Installs into capit's global plugin dir with npm, never running install scripts, then checks the manifest and that the entry loads; on any failure the dir is rolled back. A local folder is linked, not copied, so edits show up on the next run.`,
    examples: [
      [`From npm`, `$0 plugin add capit-agent-foo`],
      [`A scoped package at a version`, `$0 plugin add @acme/capit-platform-bar@1.2.0`],
      [`A tarball made with npm pack`, `$0 plugin add ./capit-agent-foo-1.0.0.tgz`],
      [`Link a folder you are working on`, `$0 plugin add ./capit-agent-foo`],
    ],
  });

  spec = Option.String({name: `spec`});

  async execute() {
    const {addPlugin, addsCommand, describeSource} = await import(`../../plugins/install.js`);
    const {discover} = await import(`../../main.js`);
    const {plugin, linked} = await addPlugin(this.spec, this.context);
    const {manifest} = plugin;
    const out = this.context.stdout;
    out.write(`${linked ? `Linked` : `Installed`} ${plugin.packageName}@${plugin.version}: ${manifest.kind} "${manifest.id}"${linked ? ` from ${plugin.dir}` : ``}\n`);
    out.write(`Adds: ${addsCommand(plugin)}\n`);
    // Report shadowing both ways: it may replace a built-in, or be hidden by CAPIT_PLUGIN_PATH / the project.
    const after = discover(this.context.env, this.context.cwd);
    for (const {plugin: hidden, shadowedBy} of after.shadowed) {
      if (shadowedBy.dir === plugin.dir)
        out.write(`Note: it shadows ${hidden.packageName}@${hidden.version} from ${describeSource(hidden)}.\n`);
      else if (hidden.dir === plugin.dir)
        this.context.stderr.write(`capit: warning: it is shadowed by ${shadowedBy.packageName} from ${describeSource(shadowedBy)}, which wins.\n`);
    }
    return 0;
  }
}
