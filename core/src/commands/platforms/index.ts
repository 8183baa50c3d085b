import type {CommandClass} from 'clipanion';

import type {CapitContext}      from '../../context.js';
import {PlatformsAddCommand}    from './add.js';
import {PlatformsListCommand}   from './list.js';
import {PlatformsRemoveCommand} from './remove.js';

export const commands: CommandClass<CapitContext>[] = [PlatformsListCommand, PlatformsAddCommand, PlatformsRemoveCommand];
