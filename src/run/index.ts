export { run, plannedEndMs, type RunOptions, type RunResult, type ProgressUpdate, type ScenarioProgress } from './run.js';
export { defaultOutDir } from './results-writer.js';
export { prepareOutDir, ResultsWriteError, RESULT_FILES } from './results-writer.js';
export { checkOffline, offlineProblems } from './check-offline.js';
