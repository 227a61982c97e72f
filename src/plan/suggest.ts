/** "Did you mean …?" hints live in core (the fault proxy's Toxiproxy API uses them too); re-exported for plan's modules. */
export { closest, didYouMean, editDistance } from '../core/suggest.js';
