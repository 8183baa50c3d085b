// The agent conformance kit, run on the built-in reference agent and the test fixtures (the scaffold e2e test proves
// it also fails a broken agent).
import opencode from 'capit-agent-opencode';
import claude   from 'capit-agent-claude';
import hermes   from 'capit-agent-hermes';
import kilo     from 'capit-agent-kilo';
import openclaw from 'capit-agent-openclaw';

import {describeAgentConformance} from '../../src/testing/agent.js';
import fixture                    from '../../../test/fixtures/plugins/capit-agent-fixture/index.js';
import tsfixture                  from '../../../test/fixtures/plugins/capit-agent-tsfixture/src/index.js';

describeAgentConformance(opencode, {platforms: [`openrouter`]});
// The other built-in agents with a sessionEnv (every built-in, on every platform its manifest lists, also runs the kit
// in ./builtins-conformance.test.ts).
describeAgentConformance(claude);
describeAgentConformance(hermes, {platforms: [`openrouter`]});
describeAgentConformance(kilo, {platforms: [`openrouter`]});
describeAgentConformance(openclaw, {platforms: [`openrouter`]});
describeAgentConformance(fixture, {platforms: [`openrouter`]});
describeAgentConformance(tsfixture, {platforms: [`openrouter`]});

// An agent with flavours and base-URL sources (in-process, like Cline's CLI and extension): the kit accepts it.
describeAgentConformance({
  apiVersion: 1, kind: `agent`, id: `flavoured`,
  files: ({home}) => [
    {id: `cli`, path: `${home}/.flavoured/cli.json`, format: `json`, secret: true},
    {id: `ide`, path: `${home}/.flavoured/ide.json`, format: `json`, secret: true},
  ],
  supports: () => true,
  plan: ({secret, platform}) => ({edits: [
    {file: `cli`, op: `set`, path: [`key`], value: secret}, {file: `cli`, op: `set`, path: [`baseUrl`], value: platform.inferenceBaseUrls.openai},
    {file: `ide`, op: `set`, path: [`key`], value: secret},
  ]}),
  keySources: ({home}) => [
    {kind: `env`, name: `FLAVOURED_CUSTOM_URL`, role: `baseUrl`, redirectsWhenSet: true},
    {kind: `file`, path: `${home}/.flavoured/cli.json`, format: `json`, at: [`baseUrl`], role: `baseUrl`, installs: true, flavour: `Flavoured CLI`},
    {kind: `file`, path: `${home}/.flavoured/cli.json`, format: `json`, at: [`key`], installs: true, flavour: `Flavoured CLI`},
    {kind: `file`, path: `${home}/.flavoured/ide.json`, format: `json`, at: [`key`], installs: true, flavour: `Flavoured extension`},
  ],
}, {platforms: [`openrouter`]});

// An agent whose install also writes the selector that picks capit's entry (like Codex's model_provider): that
// selector is marked installs too, and is not counted as a second key source capit writes.
describeAgentConformance({
  apiVersion: 1, kind: `agent`, id: `selecting`,
  files: ({home}) => [{id: `cfg`, path: `${home}/.selecting/config.json`, format: `json`, secret: true}],
  supports: () => true,
  plan: ({secret}) => ({edits: [
    {file: `cfg`, op: `set`, path: [`provider`], value: `capit-openrouter`},
    {file: `cfg`, op: `set`, path: [`providers`, `capit-openrouter`, `key`], value: secret},
  ]}),
  keySources: ({home}) => [
    {kind: `env`, name: `SELECTING_PROVIDER`, role: `selector`, selects: `capit-openrouter`},
    {kind: `file`, path: `${home}/.selecting/config.json`, format: `json`, at: [`provider`], role: `selector`, selects: `capit-openrouter`, installs: true},
    {kind: `env`, name: `SELECTING_USE_CLOUD`, truthy: true},
    {kind: `file`, path: `${home}/.selecting/config.json`, format: `json`, at: [`providers`, `capit-openrouter`, `key`], installs: true},
  ],
}, {platforms: [`openrouter`]});
