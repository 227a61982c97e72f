export {
  startTcpFaultProxy,
  type TcpFaultProxy,
  type TcpFaultProxyCounts,
  type TcpFaultProxyOptions,
} from './tcp-proxy.js';
export { assertTcpFault, tcpFaultProblems, TCP_FAULT_ATTRIBUTES, MAX_FAULT_MS } from './tcp-validate.js';
