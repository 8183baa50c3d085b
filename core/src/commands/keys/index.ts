import type {CommandClass} from 'clipanion';

import type {CapitContext}   from '../../context.js';
import {KeysDeleteCommand}   from './delete.js';
import {KeysDisableCommand}  from './disable.js';
import {KeysEnableCommand}   from './enable.js';
import {KeysListCommand}     from './list.js';

export const commands: CommandClass<CapitContext>[] = [KeysListCommand, KeysDeleteCommand, KeysDisableCommand, KeysEnableCommand];
