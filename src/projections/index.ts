export { canonicalJson, sortKeys } from './canonical-json.js';
export {
  DEFAULT_SNAPSHOT_EVERY,
  defineProjection,
  type ProjectionDefinition,
  type ProjectionEvent,
} from './define-projection.js';
export { diffStates, formatDifference, type StateDifference } from './diff-states.js';
export { foldEvents, projectionOutput, SINGLE_STATE_KEY } from './fold.js';
export { describeProjection, HEARTBEAT_TIMEOUT_MS, type ProjectionStatusView } from './projection-status.js';
export { type ReplayProjectionOptions, type ReplayResult, replayProjection } from './replay-projection.js';
export {
  createProjectionRunner,
  type RunProjectionOptions,
  type RunReport,
  rebuildProjection,
  runProjection,
} from './run-projection.js';
