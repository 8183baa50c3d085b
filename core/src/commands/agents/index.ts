import type {CommandClass} from 'clipanion';

import type {CapitContext} from '../../context.js';
import {DoctorCommand}     from './doctor.js';
import {AgentsCommand}     from './list.js';
import {WhyCommand}        from './why.js';

export const commands: CommandClass<CapitContext>[] = [AgentsCommand, DoctorCommand, WhyCommand];
