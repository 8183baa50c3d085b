// `capit/testing`: the conformance kit plugin authors (and the built-ins) run their plugins through.
// Loaded only by a test runner: it imports vitest, which plugin authors add to their own devDependencies.

export {describePlatformConformance, platformConformanceChecks} from './platform.js';
// The `ctx` core gives a platform, for a plugin's own unit tests (pass `http.send` to answer from a table).
export {createPlatformContext} from '../platforms/platform-context.js';
export type {PlatformContextOptions} from '../platforms/platform-context.js';
export type {
  FakeFailure,
  FakeSeedOptions,
  PlatformCheck,
  PlatformConformanceOptions,
  PlatformFake,
  PlatformFakeSession,
} from './platform.js';

// Agents: `describeAgentConformance` (./agent.ts) is exported from here too once it lands.
export {describeAgentConformance, conformanceEnvironments, PLACEHOLDER_SECRET, sessionEnvProblems} from './agent.js';
export type {AgentConformanceOptions} from './agent.js';
// What core refuses in a plugin's keySources() / sessionEnv().beatenBy declarations.
export {keySourceProblems} from '../plugins/key-sources.js';
// The reader core hands `detect()` and `model()`: for plugin tests that call them directly.
export {configReader} from '../files/config-reader.js';
