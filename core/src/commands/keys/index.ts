import type {CommandClass} from 'clipanion';

import type {CapitContext}  from '../../context.js';
import {KeysListCommand}    from './list.js';

export const commands: CommandClass<CapitContext>[] = [KeysListCommand];
