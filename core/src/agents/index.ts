export {listAgents}   from './list.js';
export type {AgentInfo, AgentsContext, ListAgentsOptions} from './list.js';
export {doctor, doctorFailed} from './doctor.js';
export type {DoctorReport, DoctorSource, DoctorStatus, DoctorContext, DoctorVerdict, DoctorFlavourReport} from './doctor.js';
export {detectAgent, findOnPath} from './detect.js';
