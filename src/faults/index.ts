/** The fault proxy's public API. */
export {
  startHttpFaultProxy,
  FAULT_HEADER,
  PROXY_ERROR_HEADER,
  type HttpFaultProxy,
  type HttpFaultProxyOptions,
  type HttpProxyStats,
} from './http-proxy.js';
export { httpFaultProblems, sampleDelay, MAX_FAULT_DELAY_MS } from './http-faults.js';
export { MALFORMED_EVENT } from './http-sse.js';
