export {main, buildCli, discover, capitVersion} from './main.js';
export * from './errors.js';
export * from './plugin.js';
