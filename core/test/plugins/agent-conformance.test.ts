// The agent conformance kit, run on the built-in reference agent and the test fixtures (the scaffold e2e test proves
// it also fails a broken agent).
import opencode from 'capit-agent-opencode';

import {describeAgentConformance} from '../../src/testing/agent.js';
import fixture                    from '../../../test/fixtures/plugins/capit-agent-fixture/index.js';
import tsfixture                  from '../../../test/fixtures/plugins/capit-agent-tsfixture/src/index.js';

describeAgentConformance(opencode, {platforms: [`openrouter`]});
describeAgentConformance(fixture, {platforms: [`openrouter`]});
describeAgentConformance(tsfixture, {platforms: [`openrouter`]});
