import type {CommandClass} from 'clipanion';

import type {CapitContext} from '../../context.js';

export const commands: CommandClass<CapitContext>[] = [];
