/** The fault proxy's public API. */
export {
  faultOfToxic,
  parseToxic,
  parseToxicFlag,
  TOXIC_ATTRIBUTES,
  TOXIC_TYPES,
  type ToxicJson,
  type ToxicResult,
  type ToxicType,
  toxicOfFault,
  updateToxic,
} from './fault-spec.js';
export {
  type ProxyJson,
  parseHostPort,
  loopbackHost,
  startToxiproxyApi,
  TOXIPROXY_API_VERSION,
  TOXIPROXY_DEFAULT_API,
  ToxiproxyApiError,
  type ToxiproxyApiOptions,
  type ToxiproxyApiServer,
  ToxiproxyRegistry,
} from './toxiproxy-api.js';
export {
  type FaultProxyFactory,
  type FaultProxyOptions,
  faultProxyFactory,
  formatHostPort,
  type HostPort,
  originHostPort,
  startFaultProxy,
} from './fault-proxy.js';
export {
  startTcpFaultProxy,
  type TcpFaultProxy,
  type TcpFaultProxyCounts,
  type TcpFaultProxyOptions,
} from './tcp-proxy.js';
export { assertTcpFault, tcpFaultProblems, TCP_FAULT_ATTRIBUTES, MAX_FAULT_MS } from './tcp-validate.js';
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
