import type {AgentDefinition} from 'capit/plugin';
import type {DetectedExtension} from 'capit-ide-extensions';
import {WINDSURF, ideAgent}  from 'capit-ide-extensions';

// Windsurf's Cascade has no OpenRouter BYOK: its BYOK takes only Anthropic keys for Claude 4 models, entered on
// windsurf.com (research/ide-agents.md §3). capit never claims it; it configures Kilo/Cline/Zoo/Roo inside Windsurf.
const CASCADE = [
  `Windsurf's built-in agent (Cascade) cannot use an OpenRouter key: its BYOK accepts only Anthropic keys for Claude 4 models, entered at windsurf.com/subscription/provider-api-keys. capit wrote nothing for Cascade.`,
];

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `windsurf`,
  ...ideAgent({ide: WINDSURF, ownAgentNotes: () => CASCADE, ownAgentStatus: `Cascade: no OpenRouter BYOK`}),
  // Cascade has no OpenRouter BYOK at all (research/ide-agents.md §3).
  sessionEnv: () => `Windsurf's Cascade cannot use an OpenRouter key (its BYOK takes only Anthropic keys, entered at windsurf.com), and no environment variable of a process capit starts can hand it one`,
} satisfies AgentDefinition<DetectedExtension[]>;

export default agent;
