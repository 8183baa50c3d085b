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
// The other built-in agents with a sessionEnv (cursor and windsurf run the kit in their own tests; cline's
// plan() stamps the current time into updatedAt, which the kit's determinism check refuses).
describeAgentConformance(claude);
describeAgentConformance(hermes, {platforms: [`openrouter`]});
describeAgentConformance(kilo, {platforms: [`openrouter`]});
describeAgentConformance(openclaw, {platforms: [`openrouter`]});
describeAgentConformance(fixture, {platforms: [`openrouter`]});
describeAgentConformance(tsfixture, {platforms: [`openrouter`]});
