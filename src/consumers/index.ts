export {
  DEFAULT_SETTINGS,
  type Deliver,
  type DeliveryResult,
  type GroupSettings,
  type HandlerContext,
  type HandlerSpec,
  loadHandler,
  type ModuleHandler,
} from './handler.js';
export {
  type DiscardOutcome,
  deadLetterPages,
  discardDeadLetters,
  type RedriveOptions,
  type RedriveOutcome,
  redriveDeadLetters,
} from './redrive.js';
export {
  type ConsumeOptions,
  type ConsumeReport,
  type ConsumeSummary,
  MAX_BACKOFF_MS,
  type RunnerClock,
  runConsumer,
} from './run-consumer.js';
