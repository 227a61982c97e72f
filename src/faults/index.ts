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
export { type FaultProxyFactory, faultProxyFactory, formatHostPort, type HostPort } from './toxiproxy-api-pipe.js';
