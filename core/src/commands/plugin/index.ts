import type {CommandClass} from 'clipanion';

import type {CapitContext}   from '../../context.js';
import {PluginAddCommand}    from './add.js';
import {PluginListCommand}   from './list.js';
import {PluginNewCommand}    from './new.js';
import {PluginRemoveCommand} from './remove.js';

export const commands: CommandClass<CapitContext>[] = [PluginAddCommand, PluginRemoveCommand, PluginListCommand, PluginNewCommand];
