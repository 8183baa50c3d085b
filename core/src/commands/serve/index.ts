import type {CommandClass} from 'clipanion';

import type {CapitContext} from '../../context.js';
import {ServeCommand}      from './serve.js';

export const commands: CommandClass<CapitContext>[] = [ServeCommand];
