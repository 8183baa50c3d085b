export {listAgents}   from './list.js';
export type {AgentInfo, AgentsContext, ListAgentsOptions} from './list.js';
export {doctor}       from './doctor.js';
export type {DoctorReport, DoctorSource, DoctorStatus, DoctorContext} from './doctor.js';
export {detectAgent, findOnPath} from './detect.js';
