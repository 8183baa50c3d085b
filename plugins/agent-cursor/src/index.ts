import type {AgentDefinition, PlanInput} from 'capit/plugin';
import {CURSOR, DEFAULT_MODEL, ideAgent} from 'capit-ide-extensions';
import type {DetectedExtension}        from 'capit-ide-extensions';

// Cursor's own chat keeps its key in an encrypted SQLite store (state.vscdb, `secret://…`) and calls the provider
// from Cursor's servers, so capit never writes it (research/ide-agents.md §1, §4). It configures the extensions
// that do spend OpenRouter money from this machine, then prints the manual steps for Cursor's chat.
function cursorChatNotes({platform}: PlanInput, configured: DetectedExtension[]): string[] {
  return [
    `Cursor's own chat: capit wrote nothing for it. Cursor keeps its API key in an encrypted internal store and sends requests through Cursor's servers.`,
    `To cap it anyway, issue a separate key (printed once) with: capit ${platform.id} 5 --name cursor-chat`,
    `then set it by hand in Cursor Settings › Models › API Keys:`,
    `  1. OpenAI API Key: <that key>    2. Override OpenAI Base URL: ${platform.inferenceBaseUrls.openai}`,
    `  3. + Add Custom Model: ${DEFAULT_MODEL} (enable it), then pick it in chat.`,
    `That key's cap covers only chats on that model. Tab, Apply, Auto, Agent orchestration and cloud agents keep billing your Cursor plan.`,
    ...(configured.length > 0 ? [] : [`For a fully capped agent inside Cursor, use Kilo Code or Cline (see below).`]),
  ];
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `cursor`,
  ...ideAgent({ide: CURSOR, ownAgentNotes: cursorChatNotes, ownAgentStatus: `Cursor chat: manual steps only (encrypted key store)`}),
  // Cursor's chat keeps its key in an encrypted store and calls the provider from Cursor's servers (research/ide-agents.md §1).
  sessionEnv: () => `Cursor keeps its key in an encrypted internal store and sends requests through Cursor's servers; no environment variable of a process capit starts can hand it a key`,
} satisfies AgentDefinition<DetectedExtension[]>;

export default agent;
