// The conformance kit over the built-in agents that declare `model()` (headroom preflight, issue 14 slice B5).
import claude   from '../../plugins/agent-claude/src/index.js';
import hermes   from '../../plugins/agent-hermes/src/index.js';
import openclaw from '../../plugins/agent-openclaw/src/index.js';
import opencode from '../../plugins/agent-opencode/src/index.js';
import {describeAgentConformance} from '../../core/src/testing/agent.js';
import type {AgentDefinition} from '../../core/src/plugin.js';

for (const def of [claude, hermes, openclaw, opencode] as AgentDefinition[]) describeAgentConformance(def);
